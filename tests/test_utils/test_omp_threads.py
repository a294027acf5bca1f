"""torch follows the OMP_NUM_THREADS that mmengine exports for distributed
processes after torch was imported."""
import torch

from mmseg_uda.utils.launch import apply_omp_num_threads


def test_torch_follows_omp_num_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv('OMP_NUM_THREADS', '1')
        apply_omp_num_threads()
        assert torch.get_num_threads() == 1
        monkeypatch.setenv('OMP_NUM_THREADS', 'not-a-number')
        apply_omp_num_threads()  # ignored, no crash
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
