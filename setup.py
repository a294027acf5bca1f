from setuptools import find_packages, setup

setup(
    name='mmseg_uda',
    version='0.1.0',
    description='Unsupervised domain adaptation for semantic segmentation '
    'on MMSegmentation 1.x (MaxSquare, FADA, CAG-UDA, depth distribution)',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    # the released image lists (MapillaryDataset.RELEASED_IMAGE_LISTS)
    package_data={'mmseg_uda': ['datasets/lists/*.txt']},
    python_requires='>=3.9',
    install_requires=[
        'torch', 'mmengine==0.10.7', 'mmcv==2.1.0', 'mmsegmentation==1.2.2',
        'ftfy', 'regex', 'tqdm', 'scipy', 'scikit-learn'
    ],
)
