"""Damage a saved checkpoint file the way a disk or a transfer does: bytes
flipped inside one tensor's storage record of torch's zip archive, or
anywhere in the file."""
import struct
import zipfile

import torch


def record_data(path, name):
    """(offset, size) of zip record ``name``'s data in the file."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    with open(path, 'rb') as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_length, extra_length = struct.unpack('<HH', header[26:30])
    return info.header_offset + 30 + name_length + extra_length, \
        info.file_size


def tensor_record(path, tensor):
    """Name of the record ``archive/data/<n>`` holding ``tensor``'s bytes
    (found by content: the tensor must own its whole storage)."""
    data = bytes(tensor.contiguous().untyped_storage())
    with zipfile.ZipFile(path) as archive:
        found = [
            info.filename for info in archive.infolist()
            if '/data/' in info.filename and info.file_size == len(data)
            and archive.read(info.filename) == data
        ]
    assert len(found) == 1, found
    return found[0]


def flip_bytes(path, offset, count):
    """Invert ``count`` bytes of the file from ``offset`` on."""
    with open(path, 'r+b') as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def flip_tensor_bytes(path, keys, count=64):
    """Flip ``count`` bytes in the middle of the storage of the tensor at
    ``checkpoint[keys[0]][keys[1]]...``; returns the record's name."""
    tensor = torch.load(path, map_location='cpu', weights_only=False)
    for key in keys:
        tensor = tensor[key]
    record = tensor_record(path, tensor)
    offset, size = record_data(path, record)
    assert size >= count
    flip_bytes(path, offset + (size - count) // 2, count)
    return record
