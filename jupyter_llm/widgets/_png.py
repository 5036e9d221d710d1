"""A minimal PNG encoder (numpy + zlib), for heatmaps without an imaging library."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def encode_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an ``(height, width, 4)`` uint8 RGBA image."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"Invalid value for argument rgba. Expected shape (height, width, 4). Received: rgba.shape={rgba.shape}")
    height, width = rgba.shape[:2]
    # Each scanline starts with filter type 0 (none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgba.reshape(height, width * 4)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def png_data_uri(rgba: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(rgba)).decode("ascii")
