"""Read a GGUF file's header (metadata and tensor list) without loading the model.

Why not `gguf.GGUFReader`: it materialises every tokenizer string (26.7 s on
Qwen2.5's 151k-token vocabulary) and trusts the counts it reads. This reader
skips large arrays, recording only their length, and checks every count and
length against the file size before it allocates or loops. A GGUF file is
untrusted input (llama.cpp keeps getting parser CVEs), so a damaged or hostile
file must fail fast, with one exception type and a reason a user can read.

Format (little-endian): magic "GGUF", u32 version, u64 tensor count, u64
metadata count, the metadata pairs (u64-length key, u32 value type, value),
the tensor infos (name, u32 dims, u64 per dim, u32 ggml type, u64 offset),
then the tensor data, aligned to `general.alignment` (32 by default).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from gguf import (
    GGML_QUANT_SIZES,
    GGUF_DEFAULT_ALIGNMENT,
    GGMLQuantizationType,
    GGUFValueType,
)

from ..user_files import open_input

# Arrays up to this many items are kept; longer ones (tokenizer tokens,
# scores, merges) are skipped and only their length is recorded.
SMALL_ARRAY_ITEMS = 64

# Limits no real model file comes near; a file beyond them is refused.
MAX_KEY_BYTES = 64 * 1024
MAX_STRING_BYTES = 4 * 1024 * 1024  # chat templates are tens of KB
MAX_TENSOR_NAME_BYTES = 1024
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_ARRAY_NESTING = 2  # an array of arrays is allowed, deeper is not
MAX_SKIPPED_ITEMS = 16_000_000  # strings walked while skipping arrays
MAX_KEPT_BYTES = 16 * 1024 * 1024  # all kept keys and strings together
MAX_KV_COUNT = 65_536  # real files have dozens
MAX_TENSORS = 100_000  # the largest MoE files have a few thousand

_READ_CHUNK = 1 << 20
_HEADER_BYTES = 24  # magic, version, tensor count, metadata count
_MIN_KV_BYTES = 8 + 4 + 1  # empty key, value type, one-byte value
_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # empty name, no dims, type, offset

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

_SCALAR_FORMATS: dict[GGUFValueType, str] = {
    GGUFValueType.UINT8: "B",
    GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H",
    GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I",
    GGUFValueType.INT32: "i",
    GGUFValueType.FLOAT32: "f",
    GGUFValueType.BOOL: "B",
    GGUFValueType.UINT64: "Q",
    GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT64: "d",
}
_SCALAR_STRUCTS = {vtype: struct.Struct("<" + fmt) for vtype, fmt in _SCALAR_FORMATS.items()}

# Magic numbers of llama.cpp's formats before GGUF, as they appear on disk.
_PRE_GGUF_MAGICS = (b"lmgg", b"fmgg", b"tjgg")


class GGUFHeaderError(ValueError):
    """The file is not a GGUF file this reader can trust; `str()` says why."""


@dataclass(frozen=True)
class SkippedArray:
    """An array too long to keep (a tokenizer vocabulary): only its shape is known."""

    item_type: GGUFValueType
    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    ggml_type: GGMLQuantizationType
    offset: int

    @property
    def n_elements(self) -> int:
        count = 1
        for dim in self.dims:
            count *= dim
        return count

    @property
    def n_bytes(self) -> int:
        block_size, type_size = GGML_QUANT_SIZES[self.ggml_type]
        return self.n_elements // block_size * type_size


@dataclass(frozen=True)
class GGUFHeader:
    """Everything before the tensor data: version, metadata, tensor list."""

    version: int
    kv: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    file_size: int
    data_offset: int


def read_header(path: Path | str) -> GGUFHeader:
    """Parse the header of the GGUF file at `path`.

    Raises `GGUFHeaderError` for anything wrong with the contents and lets
    `OSError` (missing, permission denied, I/O error, a folder, a FIFO or a
    device: user_files.open_input) through unchanged.
    """
    with open_input(path) as f:  # refuses folders, FIFOs, devices: they'd block or never end
        size = os.fstat(f.fileno()).st_size
        return _Parser(f, size).parse()


def _truncated(at: int, size: int) -> GGUFHeaderError:
    return GGUFHeaderError(f"truncated at byte {at:,} (file is {size:,} bytes)")


def _count(n: int) -> str:
    """Show absurd counts as powers of two, the way they are usually crafted."""
    if n >= 1 << 20 and n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return f"{n:,}"


class _Parser:
    """A forward-only cursor over the file with a bounded read buffer."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._size = size
        self._buf = b""
        self._buf_start = 0
        self._pos = 0
        self._skipped_items = 0
        self._kept_bytes = 0

    # --- bytes -----------------------------------------------------------

    def _remaining(self) -> int:
        return self._size - self._pos

    def _window(self, n: int) -> int:
        """Make bytes [pos, pos+n) available; return where they start in the buffer."""
        if self._pos + n > self._size:
            raise _truncated(self._pos, self._size)
        start = self._pos - self._buf_start
        if start < 0 or start + n > len(self._buf):
            self._f.seek(self._pos)
            self._buf = self._f.read(max(n, _READ_CHUNK))
            self._buf_start = self._pos
            if len(self._buf) < n:  # the file shrank while we read it
                raise _truncated(self._pos + len(self._buf), self._size)
            start = 0
        return start

    def _unpack(self, fmt: struct.Struct) -> tuple[Any, ...]:
        start = self._window(fmt.size)
        self._pos += fmt.size
        return fmt.unpack_from(self._buf, start)

    def _u32(self) -> int:
        value: int = self._unpack(_U32)[0]
        return value

    def _u64(self) -> int:
        value: int = self._unpack(_U64)[0]
        return value

    def _bytes(self, n: int) -> bytes:
        start = self._window(n)
        self._pos += n
        return self._buf[start : start + n]

    def _skip(self, n: int) -> None:
        if n > self._remaining():
            raise _truncated(self._pos, self._size)
        self._pos += n

    def _string(self, limit: int, what: str) -> str:
        at = self._pos
        length = self._u64()
        if length > self._remaining():
            raise GGUFHeaderError(
                f"{what} at byte {at:,} claims {_count(length)} bytes, past the end of the file "
                f"({self._size:,} bytes)"
            )
        if length > limit:
            raise GGUFHeaderError(f"{what} at byte {at:,} is {length:,} bytes long (limit {limit:,})")
        self._kept_bytes += length
        if self._kept_bytes > MAX_KEPT_BYTES:
            raise GGUFHeaderError(f"metadata text totals more than {MAX_KEPT_BYTES:,} bytes")
        return self._bytes(length).decode("utf-8", errors="replace")

    def _skip_strings(self, count: int) -> None:
        """Walk `count` length-prefixed strings without decoding them.

        This is the hot loop (two 151k-string arrays in a Qwen vocabulary), so
        it reads lengths straight out of the buffer.
        """
        self._spend(count)
        unpack = _U64.unpack_from
        size = self._size
        buf, buf_start = self._buf, self._buf_start
        pos = self._pos
        for _ in range(count):
            start = pos - buf_start
            if start + 8 > len(buf):
                self._pos = pos
                start = self._window(8)
                buf, buf_start = self._buf, self._buf_start
            end = pos + 8 + unpack(buf, start)[0]
            if end > size:
                raise _truncated(pos, size)
            pos = end
        self._pos = pos

    def _spend(self, items: int) -> None:
        self._skipped_items += items
        if self._skipped_items > MAX_SKIPPED_ITEMS:
            raise GGUFHeaderError(f"metadata arrays hold more than {MAX_SKIPPED_ITEMS:,} items")

    # --- values ----------------------------------------------------------

    def _value_type(self, what: str) -> GGUFValueType:
        raw = self._u32()
        try:
            return GGUFValueType(raw)
        except ValueError:
            raise GGUFHeaderError(f"{what} has unknown value type {raw}") from None

    def _value(self, vtype: GGUFValueType, key: str, depth: int = 0) -> Any:
        if vtype is GGUFValueType.STRING:
            return self._string(MAX_STRING_BYTES, f"value of '{key}'")
        if vtype is GGUFValueType.ARRAY:
            return self._array(key, depth + 1)
        value = self._unpack(_SCALAR_STRUCTS[vtype])[0]
        if vtype is GGUFValueType.BOOL:
            return bool(value)
        if vtype is GGUFValueType.FLOAT32:
            return float(f"{value:.7g}")  # 1e-06, not 9.999999974752427e-07
        return value

    def _array(self, key: str, depth: int) -> Any:
        if depth > MAX_ARRAY_NESTING:
            raise GGUFHeaderError(f"'{key}' nests arrays more than {MAX_ARRAY_NESTING} deep")
        item_type = self._value_type(f"an array in '{key}'")
        at = self._pos
        count = self._u64()
        min_item = {GGUFValueType.STRING: 8, GGUFValueType.ARRAY: 12}.get(item_type)
        if min_item is None:
            min_item = _SCALAR_STRUCTS[item_type].size
        if count * min_item > self._remaining():
            raise GGUFHeaderError(
                f"'{key}' at byte {at:,} claims {_count(count)} items, more than the file "
                f"({self._size:,} bytes) can hold"
            )
        if item_type is GGUFValueType.ARRAY:
            self._spend(count)
            for _ in range(count):
                self._array(key, depth + 1)
            return SkippedArray(item_type, count)
        if count > SMALL_ARRAY_ITEMS:
            if item_type is GGUFValueType.STRING:
                self._skip_strings(count)
            else:
                self._skip(count * min_item)
            return SkippedArray(item_type, count)
        return [self._value(item_type, key, depth) for _ in range(count)]

    # --- structure -------------------------------------------------------

    def parse(self) -> GGUFHeader:
        if self._size == 0:
            raise GGUFHeaderError("empty file")
        magic = self._bytes(4) if self._size >= 4 else self._f.read(4)  # a tiny file: show what it has
        if magic != b"GGUF":
            raise GGUFHeaderError(_not_gguf(magic))
        version = self._u32()
        if version not in (2, 3):
            raise GGUFHeaderError(_bad_version(version))
        n_tensors = self._u64()
        n_kv = self._u64()
        self._check_counts(n_tensors, n_kv)

        kv: dict[str, Any] = {}
        for _ in range(n_kv):
            key = self._string(MAX_KEY_BYTES, "a metadata key")
            if key in kv:
                raise GGUFHeaderError(f"metadata key '{key}' appears twice")
            kv[key] = self._value(self._value_type(f"'{key}'"), key)

        alignment = kv.get("general.alignment", GGUF_DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
            raise GGUFHeaderError(f"general.alignment is {alignment!r}, not a power of two")

        tensors = tuple(self._tensor_info(i) for i in range(n_tensors))
        names = {t.name for t in tensors}
        if len(names) != len(tensors):
            raise GGUFHeaderError("two tensors have the same name")

        data_offset = -(-self._pos // alignment) * alignment
        for tensor in tensors:
            self._check_tensor_data(tensor, data_offset, alignment)
        return GGUFHeader(version, kv, tensors, self._size, data_offset)

    def _check_counts(self, n_tensors: int, n_kv: int) -> None:
        room = self._size - _HEADER_BYTES
        if n_tensors * _MIN_TENSOR_INFO_BYTES > room:
            raise GGUFHeaderError(f"header claims {_count(n_tensors)} tensors in a {self._size:,}-byte file")
        if n_kv * _MIN_KV_BYTES > room:
            raise GGUFHeaderError(
                f"header claims {_count(n_kv)} metadata entries in a {self._size:,}-byte file"
            )
        if n_tensors * _MIN_TENSOR_INFO_BYTES + n_kv * _MIN_KV_BYTES > room:
            raise GGUFHeaderError(
                f"header claims {_count(n_tensors)} tensors and {_count(n_kv)} metadata entries "
                f"in a {self._size:,}-byte file"
            )
        if n_tensors > MAX_TENSORS:
            raise GGUFHeaderError(f"header claims {n_tensors:,} tensors (limit {MAX_TENSORS:,})")
        if n_kv > MAX_KV_COUNT:
            raise GGUFHeaderError(f"header claims {n_kv:,} metadata entries (limit {MAX_KV_COUNT:,})")

    def _tensor_info(self, index: int) -> TensorInfo:
        name = self._string(MAX_TENSOR_NAME_BYTES, f"the name of tensor {index}")
        n_dims = self._u32()
        if n_dims > MAX_DIMS:
            raise GGUFHeaderError(f"tensor '{name}' has {n_dims} dimensions (at most {MAX_DIMS})")
        dims = tuple(self._u64() for _ in range(n_dims))
        raw_type = self._u32()
        try:
            ggml_type = GGMLQuantizationType(raw_type)
        except ValueError:
            raise GGUFHeaderError(f"tensor '{name}' has unknown type {raw_type}") from None
        offset = self._u64()
        return TensorInfo(name, dims, ggml_type, offset)

    def _check_tensor_data(self, tensor: TensorInfo, data_offset: int, alignment: int) -> None:
        block_size, _ = GGML_QUANT_SIZES[tensor.ggml_type]
        if tensor.dims and tensor.dims[0] % block_size:
            raise GGUFHeaderError(
                f"tensor '{tensor.name}' has a row of {tensor.dims[0]} values, not a multiple of "
                f"{tensor.ggml_type.name}'s block of {block_size}"
            )
        if tensor.offset % alignment:
            raise GGUFHeaderError(f"tensor '{tensor.name}' is not aligned to {alignment} bytes")
        end = data_offset + tensor.offset + tensor.n_bytes
        if end > self._size:
            raise GGUFHeaderError(
                f"truncated: tensor '{tensor.name}' ends at byte {end:,} (file is {self._size:,} bytes)"
            )


def _not_gguf(magic: bytes) -> str:
    if magic in _PRE_GGUF_MAGICS:
        return f"not a GGUF file (starts with '{magic.decode()}', llama.cpp's format before GGUF; convert it again)"
    if magic and all(32 <= b < 127 for b in magic):
        return f"not a GGUF file (starts with '{magic.decode('ascii')}')"
    return f"not a GGUF file (starts with bytes {magic.hex(' ')})"


def _bad_version(version: int) -> str:
    swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
    if swapped in (1, 2, 3):
        return "big-endian GGUF file (only little-endian files are supported)"
    if version == 1:
        return "unsupported GGUF version 1 (an early 2023 format; convert the model again)"
    return f"unsupported GGUF version {version}"
