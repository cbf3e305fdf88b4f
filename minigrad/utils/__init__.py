"""PyTorch's `torch.utils` spelling: `from minigrad.utils.data import DataLoader` works."""
