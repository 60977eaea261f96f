// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Tensors
/// @notice The canonical byte encoding (version 1) of a list of integer tensors: the bytes a Verity request's
/// input and a result's output are made of, and the preimage of `inputHash` / `outputHash`. The TypeScript codec
/// in `oracle/src/models/tensorCodec.ts` implements the same format byte for byte; `docs/tensor-encoding.md`
/// describes it.
/// ```
/// TensorList := version:u8 (= 1) | count:u8 | Tensor * count
/// Tensor     := dtype:u8 | rank:u8 (0..8) | dim:u32 * rank | data
/// data       := numel elements of elementSize(dtype) bytes, big-endian two's complement
/// numel      := product of dims (1 for rank 0); every dim >= 1; numel <= 2^24
/// ```
/// @dev Every value has exactly one encoding: `decode` and `validate` reject a wrong version, an unknown dtype,
/// a rank above 8, a zero dim, more than 2^24 elements, truncated input, trailing bytes and bool bytes other
/// than 0 and 1. Fields are checked in the order they are read (each field is bounds-checked, then validated),
/// so one malformed input always produces the same error; the TypeScript codec follows the same order.
/// Signed values are plain two's complement, so every byte pattern of a non-bool element is canonical.
library Tensors {
    /// @notice One integer tensor. `data` holds the elements in row-major order as int256, whatever the dtype.
    /// @param dtype ONNX TensorProto.DataType code, one of the `DTYPE_*` constants.
    /// @param shape The dims; rank = shape.length (0 for a scalar). Every dim must be at least 1.
    /// @param data The elements; data.length must equal the product of the dims, each within the dtype's range.
    struct Tensor {
        uint8 dtype;
        uint32[] shape;
        int256[] data;
    }

    /// @notice The encoding version this library reads and writes.
    uint8 internal constant VERSION = 1;
    /// @notice ONNX UINT8: 1 byte, 0 to 2^8 - 1.
    uint8 internal constant DTYPE_UINT8 = 2;
    /// @notice ONNX INT8: 1 byte, -2^7 to 2^7 - 1.
    uint8 internal constant DTYPE_INT8 = 3;
    /// @notice ONNX UINT16: 2 bytes, 0 to 2^16 - 1.
    uint8 internal constant DTYPE_UINT16 = 4;
    /// @notice ONNX INT16: 2 bytes, -2^15 to 2^15 - 1.
    uint8 internal constant DTYPE_INT16 = 5;
    /// @notice ONNX INT32: 4 bytes, -2^31 to 2^31 - 1.
    uint8 internal constant DTYPE_INT32 = 6;
    /// @notice ONNX INT64: 8 bytes, -2^63 to 2^63 - 1.
    uint8 internal constant DTYPE_INT64 = 7;
    /// @notice ONNX BOOL: 1 byte, 0 or 1.
    uint8 internal constant DTYPE_BOOL = 9;
    /// @notice ONNX UINT32: 4 bytes, 0 to 2^32 - 1.
    uint8 internal constant DTYPE_UINT32 = 12;
    /// @notice Most tensors in one list (the count is one byte).
    uint256 internal constant MAX_TENSORS = 255;
    /// @notice Highest rank of a tensor.
    uint8 internal constant MAX_RANK = 8;
    /// @notice Most elements in one tensor (2^24).
    uint256 internal constant MAX_ELEMENTS = 1 << 24;

    /// @dev Per-dtype lookup table, one byte per dtype code (byte `code` counted from the least significant end):
    /// bits 0-3 the element size in bytes (0 = unknown dtype), bit 6 set for BOOL, bit 7 set for signed dtypes.
    /// Bytes 12..0: UINT32 0x04, -, -, BOOL 0x41, -, INT64 0x88, INT32 0x84, INT16 0x82, UINT16 0x02, INT8 0x81,
    /// UINT8 0x01, -, -. A table lookup replaces an 8-way branch in every header read. It is a literal on purpose:
    /// the same table built as a constant expression of shifts was re-evaluated at run time (about 850 gas per
    /// header).
    uint256 private constant _DTYPE_TABLE = 0x04000041008884820281010000;
    /// @dev Element size bits of a `_DTYPE_TABLE` entry.
    uint256 private constant _SIZE_MASK = 0x0f;
    /// @dev BOOL bit of a `_DTYPE_TABLE` entry.
    uint256 private constant _BOOL_FLAG = 0x40;
    /// @dev Signed bit of a `_DTYPE_TABLE` entry.
    uint256 private constant _SIGNED_FLAG = 0x80;
    /// @dev Bits that are zero in every byte of a word of valid bools (each byte 0x00 or 0x01).
    uint256 private constant _NOT_BOOL_MASK = 0xfefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefe;

    /// @notice The version byte is not `VERSION`.
    /// @param have The version byte found.
    /// @param want The version this library reads.
    error TensorsUnsupportedVersion(uint8 have, uint8 want);
    /// @notice A tensor's dtype is not one of the supported integer dtypes.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param dtype The dtype code found.
    error TensorsUnknownDtype(uint256 tensorIndex, uint8 dtype);
    /// @notice A tensor has more than `MAX_RANK` dims.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param have The rank found (uint256: on encode it is a shape array length, which can exceed 255).
    /// @param max The highest rank allowed.
    error TensorsRankTooLarge(uint256 tensorIndex, uint256 have, uint256 max);
    /// @notice A tensor has a dim of zero (empty tensors are not representable).
    /// @param tensorIndex Position of the tensor in the list.
    /// @param dimIndex Position of the zero dim in the shape.
    error TensorsZeroDim(uint256 tensorIndex, uint256 dimIndex);
    /// @notice The product of a tensor's dims is above `MAX_ELEMENTS`.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param have The product of the dims.
    /// @param max The most elements allowed.
    error TensorsTooManyElements(uint256 tensorIndex, uint256 have, uint256 max);
    /// @notice More than `MAX_TENSORS` tensors were given to `encode`.
    /// @param have The number of tensors given.
    /// @param max The most tensors allowed.
    error TensorsTooManyTensors(uint256 have, uint256 max);
    /// @notice The input ends before the field being read.
    /// @param have The input length in bytes.
    /// @param want The length needed to read the field (offset of its end).
    error TensorsTruncated(uint256 have, uint256 want);
    /// @notice Bytes follow the last tensor.
    /// @param have The input length in bytes.
    /// @param want The length of the encoding (offset of the end of the last tensor).
    error TensorsTrailingBytes(uint256 have, uint256 want);
    /// @notice An element of a BOOL tensor is a byte other than 0 or 1.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param elementIndex Position of the element in the tensor's data.
    /// @param value The byte found.
    error TensorsInvalidBool(uint256 tensorIndex, uint256 elementIndex, uint8 value);
    /// @notice An element given to `encode` does not fit its tensor's dtype.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param elementIndex Position of the element in the tensor's data.
    /// @param value The element given.
    /// @param min The dtype's lowest value.
    /// @param max The dtype's highest value.
    error TensorsValueOutOfRange(uint256 tensorIndex, uint256 elementIndex, int256 value, int256 min, int256 max);
    /// @notice A tensor given to `encode` has a data length other than the product of its dims.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param have data.length.
    /// @param want The product of the dims.
    error TensorsShapeMismatch(uint256 tensorIndex, uint256 have, uint256 want);
    /// @notice `elementAt` was asked for a tensor or an element that does not exist.
    /// @param tensorIndex The tensor index asked for.
    /// @param elementIndex The element index asked for.
    /// @param tensorCount The number of tensors in the list.
    /// @param elementCount The number of elements of tensor `tensorIndex`, or 0 if there is no such tensor.
    error TensorsIndexOutOfBounds(uint256 tensorIndex, uint256 elementIndex, uint256 tensorCount, uint256 elementCount);

    // ---------------------------------------------------------------------------------------------------------
    // Encoding
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Encodes a list of tensors canonically.
    /// @dev Validates everything first (list length, then per tensor: dtype, rank, each dim, element count, data
    /// length, each value), then writes in one pass into a buffer of the exact size.
    /// @param tensors The tensors, at most `MAX_TENSORS`.
    /// @return encoded The canonical bytes.
    function encode(Tensor[] memory tensors) internal pure returns (bytes memory encoded) {
        uint256 count = tensors.length;
        if (count > MAX_TENSORS) revert TensorsTooManyTensors(count, MAX_TENSORS);
        uint256 size = 2;
        for (uint256 i; i < count; ++i) {
            size += _checkTensor(tensors[i], i);
        }
        uint256 ptr;
        // Safe: allocates `size` bytes at the free memory pointer (rounded up to a word, as Solidity does) and
        // moves the pointer past them. The contents are all written below, so they are not zeroed here.
        assembly ("memory-safe") {
            encoded := mload(0x40)
            mstore(encoded, size)
            mstore(0x40, add(add(encoded, 0x20), and(add(size, 31), not(31))))
            ptr := add(encoded, 0x20)
            mstore8(ptr, VERSION)
            mstore8(add(ptr, 1), count)
            ptr := add(ptr, 2)
        }
        for (uint256 i; i < count; ++i) {
            ptr = _writeTensor(tensors[i], ptr);
        }
        // Safe: `ptr` is now the end of the encoding. The word written there zeroes the padding up to the next
        // word boundary (inside the allocation) and the spill of the last 32-byte store in `_writeTensor`,
        // which lies in the unallocated memory past the free memory pointer that may be used as scratch.
        assembly ("memory-safe") {
            mstore(ptr, 0)
        }
    }

    /// @notice keccak256 of the canonical encoding: the `outputHash` (or `inputHash`) of these tensors.
    /// @param tensors The tensors, at most `MAX_TENSORS`.
    /// @return The keccak256 of `encode(tensors)`.
    function hash(Tensor[] memory tensors) internal pure returns (bytes32) {
        return keccak256(encode(tensors));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Decoding and validation
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Decodes canonical bytes into tensors, rejecting any non-canonical input.
    /// @param encoded The bytes to decode.
    /// @return tensors The tensors, with data as int256 (sign-extended for signed dtypes).
    function decode(bytes memory encoded) internal pure returns (Tensor[] memory tensors) {
        uint256 count = _readPreamble(encoded);
        tensors = new Tensor[](count);
        uint256 offset = 2;
        for (uint256 i; i < count; ++i) {
            (uint256 entry, uint256 numel, uint256 dataOffset, uint256 end) = _parseHeader(encoded, offset, i);
            if (entry & _BOOL_FLAG != 0) _checkBools(encoded, dataOffset, numel, i);
            tensors[i] = _readTensor(encoded, offset, entry, numel);
            offset = end;
        }
        if (offset != encoded.length) revert TensorsTrailingBytes(encoded.length, offset);
    }

    /// @notice Checks that `encoded` is canonical without allocating any tensor: the same checks, in the same
    /// order, with the same errors as `decode`.
    /// @param encoded The bytes to check.
    /// @return count The number of tensors in the list.
    function validate(bytes memory encoded) internal pure returns (uint256 count) {
        count = _readPreamble(encoded);
        uint256 offset = 2;
        for (uint256 i; i < count; ++i) {
            (uint256 entry, uint256 numel, uint256 dataOffset, uint256 end) = _parseHeader(encoded, offset, i);
            if (entry & _BOOL_FLAG != 0) _checkBools(encoded, dataOffset, numel, i);
            offset = end;
        }
        if (offset != encoded.length) revert TensorsTrailingBytes(encoded.length, offset);
    }

    /// @notice Reads one element without decoding the list: walks the headers of tensors 0..tensorIndex and
    /// reads element `elementIndex` of tensor `tensorIndex` (row-major).
    /// @dev Checks the version, the headers it walks (including that their data is present) and, for a BOOL
    /// tensor, the element read. It does NOT check later tensors, trailing bytes or other bool elements: run
    /// `validate` once on untrusted bytes, such as a result's output in a consumer callback.
    /// @param encoded The encoded tensor list.
    /// @param tensorIndex Position of the tensor in the list.
    /// @param elementIndex Position of the element in the tensor's data.
    /// @return value The element (sign-extended for signed dtypes).
    function elementAt(
        bytes memory encoded,
        uint256 tensorIndex,
        uint256 elementIndex
    ) internal pure returns (int256 value) {
        uint256 count = _readPreamble(encoded);
        if (tensorIndex >= count) revert TensorsIndexOutOfBounds(tensorIndex, elementIndex, count, 0);
        uint256 offset = 2;
        uint256 entry;
        uint256 numel;
        uint256 dataOffset;
        for (uint256 i; ; ++i) {
            (entry, numel, dataOffset, offset) = _parseHeader(encoded, offset, i);
            if (i == tensorIndex) break;
        }
        if (elementIndex >= numel) revert TensorsIndexOutOfBounds(tensorIndex, elementIndex, count, numel);
        uint256 size = entry & _SIZE_MASK;
        uint256 signed = entry & _SIGNED_FLAG;
        // Safe: reads only. The element lies within the data `_parseHeader` checked present (elementIndex <
        // numel <= 2^24, so elementIndex * size cannot overflow); the bytes after it are shifted out.
        assembly ("memory-safe") {
            let word := mload(add(add(encoded, 0x20), add(dataOffset, mul(elementIndex, size))))
            let shift := sub(256, shl(3, size))
            switch signed
            case 0 {
                value := shr(shift, word)
            }
            default {
                value := sar(shift, word)
            }
        }
        if (entry & _BOOL_FLAG != 0 && value > 1) {
            revert TensorsInvalidBool(tensorIndex, elementIndex, uint8(uint256(value)));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Constructors
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Builds a tensor from its parts. Nothing is checked until `encode`.
    /// @param dtype One of the `DTYPE_*` constants.
    /// @param shape The dims (empty for a scalar).
    /// @param data The elements in row-major order.
    /// @return The tensor.
    function fromInt256(
        uint8 dtype,
        uint32[] memory shape,
        int256[] memory data
    ) internal pure returns (Tensor memory) {
        return Tensor({dtype: dtype, shape: shape, data: data});
    }

    /// @notice Builds a rank-0 tensor holding one value.
    /// @param dtype One of the `DTYPE_*` constants.
    /// @param value The element.
    /// @return t The tensor.
    function scalar(uint8 dtype, int256 value) internal pure returns (Tensor memory t) {
        t.dtype = dtype;
        t.shape = new uint32[](0);
        t.data = new int256[](1);
        t.data[0] = value;
    }

    /// @notice Builds a rank-1 tensor of shape [data.length]. `data` must not be empty (dims are at least 1).
    /// @param dtype One of the `DTYPE_*` constants.
    /// @param data The elements (the array is used, not copied).
    /// @return t The tensor.
    function vector(uint8 dtype, int256[] memory data) internal pure returns (Tensor memory t) {
        t.dtype = dtype;
        t.shape = new uint32[](1);
        // Safe to truncate: a length above 2^32 - 1 cannot be allocated within any block gas limit.
        t.shape[0] = uint32(data.length);
        t.data = data;
    }

    /// @notice Builds an INT8 vector. `values` must not be empty.
    /// @param values The elements.
    /// @return The tensor.
    function int8Vector(int8[] memory values) internal pure returns (Tensor memory) {
        int256[] memory data = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            data[i] = values[i];
        }
        return vector(DTYPE_INT8, data);
    }

    /// @notice Builds a UINT8 vector. `values` must not be empty.
    /// @param values The elements.
    /// @return The tensor.
    function uint8Vector(uint8[] memory values) internal pure returns (Tensor memory) {
        int256[] memory data = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            data[i] = int256(uint256(values[i]));
        }
        return vector(DTYPE_UINT8, data);
    }

    /// @notice Builds an INT32 vector. `values` must not be empty.
    /// @param values The elements.
    /// @return The tensor.
    function int32Vector(int32[] memory values) internal pure returns (Tensor memory) {
        int256[] memory data = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            data[i] = values[i];
        }
        return vector(DTYPE_INT32, data);
    }

    /// @notice Builds an INT64 vector. `values` must not be empty.
    /// @param values The elements.
    /// @return The tensor.
    function int64Vector(int64[] memory values) internal pure returns (Tensor memory) {
        int256[] memory data = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            data[i] = values[i];
        }
        return vector(DTYPE_INT64, data);
    }

    /// @notice Builds a BOOL vector. `values` must not be empty.
    /// @param values The elements.
    /// @return The tensor.
    function boolVector(bool[] memory values) internal pure returns (Tensor memory) {
        int256[] memory data = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            data[i] = values[i] ? int256(1) : int256(0);
        }
        return vector(DTYPE_BOOL, data);
    }

    /// @notice Wraps one tensor in a list, e.g. `Tensors.encode(Tensors.single(t))`.
    /// @param tensor The tensor.
    /// @return list A list holding `tensor` only.
    function single(Tensor memory tensor) internal pure returns (Tensor[] memory list) {
        list = new Tensor[](1);
        list[0] = tensor;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Private helpers
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Validates tensor `i` for `encode`; returns its encoded length.
    function _checkTensor(Tensor memory t, uint256 i) private pure returns (uint256) {
        uint256 entry = _dtypeEntry(t.dtype);
        if (entry == 0) revert TensorsUnknownDtype(i, t.dtype);
        uint32[] memory shape = t.shape;
        uint256 rank = shape.length;
        if (rank > MAX_RANK) revert TensorsRankTooLarge(i, rank, MAX_RANK);
        uint256 numel = 1;
        for (uint256 j; j < rank; ++j) {
            uint256 dim = shape[j];
            if (dim == 0) revert TensorsZeroDim(i, j);
            // Safe: at most 8 factors, each below 2^32, so the product is below 2^256.
            unchecked {
                numel *= dim;
            }
        }
        if (numel > MAX_ELEMENTS) revert TensorsTooManyElements(i, numel, MAX_ELEMENTS);
        int256[] memory data = t.data;
        if (data.length != numel) revert TensorsShapeMismatch(i, data.length, numel);
        (int256 min, int256 max) = _range(entry);
        for (uint256 j; j < numel; ++j) {
            int256 value = data[j];
            if (value < min || value > max) revert TensorsValueOutOfRange(i, j, value, min, max);
        }
        return 2 + 4 * rank + numel * (entry & _SIZE_MASK);
    }

    /// @dev Writes a tensor already checked by `_checkTensor` at memory pointer `ptr`; returns the pointer past it.
    function _writeTensor(Tensor memory t, uint256 ptr) private pure returns (uint256) {
        uint8 dtype = t.dtype;
        uint256 size = _dtypeEntry(dtype) & _SIZE_MASK;
        uint32[] memory shape = t.shape;
        int256[] memory data = t.data;
        // Safe: `encode` allocated exactly the length `_checkTensor` computed, and this writes exactly that many
        // bytes from `ptr`, strictly increasing. Each 32-byte mstore puts the field in its leading bytes (shl
        // keeps only the field's low bytes, so dirty high bits cannot leak); its trailing bytes are overwritten by
        // the next field, and after the last field `encode` zeroes them.
        assembly ("memory-safe") {
            mstore8(ptr, dtype)
            mstore8(add(ptr, 1), mload(shape))
            ptr := add(ptr, 2)
            let src := add(shape, 0x20)
            let end := add(src, shl(5, mload(shape)))
            for {} lt(src, end) {
                src := add(src, 0x20)
            } {
                mstore(ptr, shl(224, mload(src)))
                ptr := add(ptr, 4)
            }
            let shift := sub(256, shl(3, size))
            src := add(data, 0x20)
            end := add(src, shl(5, mload(data)))
            for {} lt(src, end) {
                src := add(src, 0x20)
            } {
                mstore(ptr, shl(shift, mload(src)))
                ptr := add(ptr, size)
            }
        }
        return ptr;
    }

    /// @dev Checks the version byte and returns the tensor count.
    function _readPreamble(bytes memory encoded) private pure returns (uint256 count) {
        uint256 length = encoded.length;
        uint256 head = _word(encoded, 0);
        if (length < 1) revert TensorsTruncated(length, 1);
        uint256 version = head >> 248;
        if (version != VERSION) revert TensorsUnsupportedVersion(uint8(version), VERSION);
        if (length < 2) revert TensorsTruncated(length, 2);
        count = (head >> 240) & 0xff;
    }

    /// @dev Reads and validates the header of tensor `tensorIndex` starting at `offset`, and checks its data is
    /// present. Returns the `_DTYPE_TABLE` entry of its dtype, its element count, the offset of its data and the
    /// offset just past its data.
    function _parseHeader(
        bytes memory encoded,
        uint256 offset,
        uint256 tensorIndex
    ) private pure returns (uint256 entry, uint256 numel, uint256 dataOffset, uint256 end) {
        uint256 length = encoded.length;
        uint256 head = _word(encoded, offset);
        // Safe: `offset` is at most `length` (a memory length, far below 2^64) and every sum below adds at most
        // 2 + 4 * 8 + 2^24 * 8 to an offset already checked against `length`; the product of at most 8 dims,
        // each below 2^32, is below 2^256.
        unchecked {
            if (length < offset + 1) revert TensorsTruncated(length, offset + 1);
            uint256 dtype = head >> 248;
            entry = _dtypeEntry(dtype);
            if (entry == 0) revert TensorsUnknownDtype(tensorIndex, uint8(dtype));
            if (length < offset + 2) revert TensorsTruncated(length, offset + 2);
            uint256 rank = (head >> 240) & 0xff;
            if (rank > MAX_RANK) revert TensorsRankTooLarge(tensorIndex, rank, MAX_RANK);
            numel = 1;
            dataOffset = offset + 2;
            for (uint256 j; j < rank; ++j) {
                if (length < dataOffset + 4) revert TensorsTruncated(length, dataOffset + 4);
                uint256 dim = _word(encoded, dataOffset) >> 224;
                if (dim == 0) revert TensorsZeroDim(tensorIndex, j);
                numel *= dim;
                dataOffset += 4;
            }
            if (numel > MAX_ELEMENTS) revert TensorsTooManyElements(tensorIndex, numel, MAX_ELEMENTS);
            end = dataOffset + numel * (entry & _SIZE_MASK);
            if (length < end) revert TensorsTruncated(length, end);
        }
    }

    /// @dev Reverts with TensorsInvalidBool at the first of `numel` bytes from `dataOffset` that is not 0 or 1.
    /// The data must be present (checked by `_parseHeader`).
    function _checkBools(bytes memory encoded, uint256 dataOffset, uint256 numel, uint256 tensorIndex) private pure {
        uint256 j;
        // Safe: j <= numel <= 2^24 and dataOffset + numel is within `encoded`.
        unchecked {
            // Fast path, 32 bools per word. On a word with an invalid byte it stops, and the byte loop finds it.
            for (; j + 32 <= numel; j += 32) {
                if (_word(encoded, dataOffset + j) & _NOT_BOOL_MASK != 0) break;
            }
            for (; j < numel; ++j) {
                uint256 value = _word(encoded, dataOffset + j) >> 248;
                if (value > 1) revert TensorsInvalidBool(tensorIndex, j, uint8(value));
            }
        }
    }

    /// @dev Allocates and fills the tensor whose header (already checked by `_parseHeader`) starts at `offset`.
    function _readTensor(
        bytes memory encoded,
        uint256 offset,
        uint256 entry,
        uint256 numel
    ) private pure returns (Tensor memory t) {
        uint256 head = _word(encoded, offset);
        uint256 rank = (head >> 240) & 0xff;
        t.dtype = uint8(head >> 248);
        t.shape = new uint32[](rank);
        // Safe: rank <= 8 and offset + 2 + 4 * rank is within `encoded` (checked by `_parseHeader`).
        unchecked {
            for (uint256 j; j < rank; ++j) {
                t.shape[j] = uint32(_word(encoded, offset + 2 + 4 * j) >> 224);
            }
            t.data = new int256[](numel);
            _readElements(encoded, offset + 2 + 4 * rank, entry, t.data);
        }
    }

    /// @dev Reads `data.length` elements from `dataOffset` into `data`, sign-extending signed dtypes. The data
    /// must be present (checked by `_parseHeader`).
    function _readElements(bytes memory encoded, uint256 dataOffset, uint256 entry, int256[] memory data) private pure {
        uint256 size = entry & _SIZE_MASK;
        uint256 signed = entry & _SIGNED_FLAG;
        // Safe: reads from `encoded` only within the data checked present (the 32-byte load of the last element
        // may read past the end of `encoded`, but those bytes are shifted out), and writes `data` only within its
        // length.
        assembly ("memory-safe") {
            let src := add(add(encoded, 0x20), dataOffset)
            let dst := add(data, 0x20)
            let end := add(dst, shl(5, mload(data)))
            let shift := sub(256, shl(3, size))
            switch signed
            case 0 {
                for {} lt(dst, end) {
                    dst := add(dst, 0x20)
                } {
                    mstore(dst, shr(shift, mload(src)))
                    src := add(src, size)
                }
            }
            default {
                for {} lt(dst, end) {
                    dst := add(dst, 0x20)
                } {
                    mstore(dst, sar(shift, mload(src)))
                    src := add(src, size)
                }
            }
        }
    }

    /// @dev The 32 bytes of `encoded` from byte `offset` on. Callers use only the leading bytes they have
    /// bounds-checked.
    function _word(bytes memory encoded, uint256 offset) private pure returns (uint256 word) {
        // Safe: reads only. Bytes past the end of `encoded` are whatever follows it in memory; callers shift them
        // out or check the length before using them.
        assembly ("memory-safe") {
            word := mload(add(add(encoded, 0x20), offset))
        }
    }

    /// @dev The `_DTYPE_TABLE` entry of `dtype`, 0 if unknown (shifts of 256 bits or more yield 0).
    function _dtypeEntry(uint256 dtype) private pure returns (uint256) {
        return (_DTYPE_TABLE >> (dtype << 3)) & 0xff;
    }

    /// @dev The inclusive value range of the dtype of a `_DTYPE_TABLE` entry.
    function _range(uint256 entry) private pure returns (int256 min, int256 max) {
        if (entry & _BOOL_FLAG != 0) return (0, 1);
        uint256 bits = (entry & _SIZE_MASK) << 3;
        if (entry & _SIGNED_FLAG != 0) {
            max = int256((1 << (bits - 1)) - 1);
            min = -max - 1;
        } else {
            max = int256((1 << bits) - 1);
        }
    }
}
