"""The student segmentor, kept by a term that runs further student
forwards (DACS's mixed batch, MIC's masked batch)."""
from torch import nn


class KeepsStudent:
    """Mixin for a term (an ``nn.Module``) that runs the student segmentor
    on images of its own through ``forward_domain``, inside the segmentor's
    ``loss`` (hence inside DDP's forward).

    The reference is kept outside the module tree: as an attribute set
    through ``nn.Module.__setattr__`` the segmentor would become a
    submodule of its own term (a cycle in ``modules()`` and the state
    dict).

    Usage: ``class Term(KeepsStudent, BaseModule)``, ``attach(segmentor)``
    calls ``self.keep_student(segmentor)``; then ``self.segmentor``.
    """

    def keep_student(self, segmentor: nn.Module) -> None:
        """Keep ``segmentor`` (called from the term's ``attach``)."""
        self.__dict__['_student_segmentor'] = segmentor

    @property
    def segmentor(self) -> nn.Module:
        """The student segmentor.

        Raises:
            RuntimeError: If the term was not attached to a segmentor.
        """
        segmentor = self.__dict__.get('_student_segmentor')
        if segmentor is None:
            raise RuntimeError(
                f'{type(self).__name__}: no segmentor; the term must be '
                'built by UDAEncoderDecoder (which calls attach)')
        return segmentor
