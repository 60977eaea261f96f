// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIntegerExecutor} from "../interfaces/IIntegerExecutor.sol";
import {ResultCodes} from "../libraries/ResultCodes.sol";

/// @title IntegerExecutor
/// @notice Re-executes a verifiable model on-chain: interprets its program (format version 1, specified in
/// `oracle/src/verify/program.ts`) on a request's input and returns the canonical output tensor list, bit for bit
/// what the reference interpreter (`oracle/src/verify/reference.ts`) computes.
///
/// SECURITY CONSIDERATIONS
/// - Stateless and `pure`: anyone can call it, it holds no funds and no storage, and its answer depends only on
///   the two byte strings it is given. Whoever uses the answer (a dispute resolver) must make sure the program is
///   the one bound to the model (its keccak256 equals the registry's `programHash`, e.g. loaded from the
///   ProgramStore) and the input the one bound to the request (`inputHash`).
/// - Trusted: nothing. A malformed program reverts before the input is looked at (the whole program is validated
///   in a first pass), so whether a program is well formed never depends on the input: a program either always
///   reverts or never does (except by running out of gas). An input is untrusted data: anything that is not
///   exactly a tensor list of the program's inputs, within their declared ranges, is `INVALID_INPUT`.
/// - Invariant: every value stored in a slot lies in its slot's dtype range. Inputs and constants are read at
///   their width; Add, Sub, Mul, Div and MatMulInteger check their results (else `MODEL_ERROR`); Relu, Max, Min,
///   Clip (bounds validated against the dtype), Gather and Reshape only select or order values of the same
///   dtype; Cast wraps to the target width; ArgMax yields indices below 2^32. Values are kept as int256 words,
///   so no intermediate of two int64 operands can overflow 256 bits; every `unchecked` and assembly block below
///   relies on this invariant and on the bounds the first pass checks.
/// - Memory: each op allocates its output at the free memory pointer and never writes below it; temporaries
///   (broadcast copies, MatMulInteger's packed rows) are released after the op. A hostile program can only make
///   the call run out of gas (large slot counts or shapes), never read or write outside its buffers: every
///   index an op can compute is bounded by checks of the first pass.
/// - Known trade-offs: shapes are trusted as declared where only the element count matters for memory safety
///   (e.g. an Add's output shape is not re-derived from its operands' shapes); a program that declares a shape
///   inconsistent with ONNX semantics but consistent in element counts runs, and computes what its bytes say.
///   `compileModel` never writes such programs, and the program hash binds the bytes.
///
/// GAS MODEL (measured in bench/results/verify.md)
/// - Fixed: the first pass reads every header once (a few hundred gas per op); inputs and constants cost ~40-90
///   gas per element to decode (with memory expansion), the output ~30 per element to encode. A one-op program
///   costs ~17k gas in all.
/// - MatMulInteger (nearly all the gas of an MLP): the weights stay in calldata (never copied to memory), one
///   32-byte word holding 32 weights of one column. Each row of A is packed once into 4 words per 32 elements,
///   eight 32-bit lanes each, so that one MUL of a lane-masked weight word by a packed row word computes the dot
///   product of 8 weights with 8 activations in its top lane (a polynomial product: lanes i and 7 - i meet in
///   lane 7). 32 multiply-accumulates cost 1 CALLDATALOAD, 4 shift/mask pairs, 4 MLOADs, 4 MULs and 4 ADDs, 128
///   per loop iteration: ~5.5 gas per MAC, plus ~150 gas per output element and ~40 per element of A. Given
///   up: a simpler byte-by-byte loop (~30 gas per MAC).
/// - Whole MLPs at batch 1: ~7 gas per MAC of execution at [800, 800, 800, 10]. A transaction that carries the
///   program as calldata pays 16 gas per non-zero weight byte on top (one byte per MAC at batch 1): ~23 gas per
///   MAC in all, of which the calldata is two thirds.
/// - Elementwise ops ~30-60 gas per element; broadcasting of a trailing block (map kind 1) costs one MCOPY per
///   doubling; general strides (kind 2) ~100 gas per element.
/// - Memory: every value is a 32-byte word, so memory grows by 32 bytes per element of every op's output (the
///   quadratic part stays small: activations are tiny next to the weights, which stay in calldata). Given up:
///   packing int8 activations, which would save memory but cost a shift and mask at every read.
contract IntegerExecutor is IIntegerExecutor {
    /// @dev The program format version this executor reads.
    uint8 private constant _VERSION = 1;
    /// @dev Opcodes (program.ts OPCODES).
    uint256 private constant _OP_MATMUL = 1;
    uint256 private constant _OP_ADD = 2;
    uint256 private constant _OP_SUB = 3;
    uint256 private constant _OP_MUL = 4;
    uint256 private constant _OP_DIV = 5;
    uint256 private constant _OP_MAX = 6;
    uint256 private constant _OP_MIN = 7;
    uint256 private constant _OP_RELU = 8;
    uint256 private constant _OP_CLIP = 9;
    uint256 private constant _OP_ARGMAX = 10;
    uint256 private constant _OP_RESHAPE = 11;
    uint256 private constant _OP_CAST = 12;
    uint256 private constant _OP_GATHER = 13;
    /// @dev ONNX dtype codes of the subset.
    uint256 private constant _UINT8 = 2;
    uint256 private constant _INT8 = 3;
    uint256 private constant _INT32 = 6;
    uint256 private constant _INT64 = 7;
    /// @dev Per-dtype entry, one byte per code (byte `code` from the least significant end): bits 0-3 the element
    /// size, bit 7 set for signed dtypes. INT64 0x88, INT32 0x84, INT8 0x81, UINT8 0x01; 0 = not in the subset.
    uint256 private constant _DTYPE_TABLE = 0x8884000081010000;
    /// @dev Highest rank and most elements of a tensor (the tensor encoding's limits).
    uint256 private constant _MAX_RANK = 8;
    uint256 private constant _MAX_ELEMENTS = 1 << 24;
    /// @dev Slot metadata word: data pointer (bits 0-63, 0 until the second pass writes the slot), element count
    /// (64-127), offset in the program of the slot's `dtype | rank | dims` header (128-191), dtype (192-199). A
    /// written slot's word is never 0 (its element count is at least 1).
    uint256 private constant _MASK64 = 0xffffffffffffffff;
    /// @dev The low byte of each 32-bit lane of a word.
    uint256 private constant _LANE_MASK = 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff;
    /// @dev 2^223: added before reading the top lane so that the signed sum of the lower lanes cannot borrow.
    uint256 private constant _LANE_BIAS = 0x0000000080000000000000000000000000000000000000000000000000000000;
    /// @dev One in every 32-bit lane.
    uint256 private constant _LANE_ONES = 0x0000000100000001000000010000000100000001000000010000000100000001;
    /// @dev Bytes of packed row consumed per block of MatMulInteger (256 groups of 32 weights: k = 8192),
    /// after which the top lane is read out. Keeps every lane's sum within the bounds of `_dotRow`.
    uint256 private constant _BLOCK_BYTES = 0x8000;

    /// @dev Where the sections of a checked program start.
    struct Layout {
        uint256[] meta;
        uint256 inputCount;
        uint256 inputs;
        uint256 constCount;
        uint256 consts;
        uint256 opCount;
        uint256 ops;
        uint256 outputCount;
        uint256 outputs;
    }

    /// @inheritdoc IIntegerExecutor
    function execute(
        bytes calldata program,
        bytes calldata input
    ) external pure returns (uint8 resultCode, bytes memory output) {
        Layout memory layout = _check(program);
        if (!_readInputs(program, input, layout)) return (ResultCodes.INVALID_INPUT, "");
        _loadConsts(program, layout);
        if (!_runOps(program, layout)) return (ResultCodes.MODEL_ERROR, "");
        return (ResultCodes.OK, _encodeOutputs(program, layout));
    }

    /// @inheritdoc IIntegerExecutor
    function gasBound(bytes calldata program) external pure returns (uint256 gas, uint256 outputBytes) {
        return _gasBound(program, _check(program));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Gas bound: what `execute` can cost at most, from the declared shapes

    /// @dev Per-element costs of the second pass, in gas, without memory expansion (counted apart, from every
    /// word the run allocates). Each is at least the most the measured code spends per element on any input,
    /// with a margin (test/contracts/IntegerExecutor.gasBound.spec.ts holds measured runs under the bound).
    uint256 private constant _G_FIXED = 30_000;
    uint256 private constant _G_TENSOR = 1_500;
    uint256 private constant _G_OP = 6_000;
    uint256 private constant _G_SLOT = 150;
    uint256 private constant _G_INPUT_ELEMENT = 180;
    uint256 private constant _G_CONST_ELEMENT = 150;
    uint256 private constant _G_OUTPUT_ELEMENT = 120;
    uint256 private constant _G_MATMUL_OUT = 550;
    uint256 private constant _G_MATMUL_A = 300;
    uint256 private constant _G_MATMUL_ROW = 5_500;
    /// @dev Per 32 multiply-accumulates (one weight word against the packed row).
    uint256 private constant _G_MATMUL_GROUP = 240;
    uint256 private constant _G_BINARY = 200;
    uint256 private constant _G_MAP_BLOCK = 40;
    uint256 private constant _G_MAP_STRIDED = 120;
    uint256 private constant _G_MAP_STRIDED_DIM = 200;
    uint256 private constant _G_UNARY = 150;
    uint256 private constant _G_ARGMAX_IN = 160;
    uint256 private constant _G_ARGMAX_OUT = 200;
    uint256 private constant _G_GATHER = 200;

    /// @dev The bound of a checked program: fixed and per-tensor costs, every op's per-element cost, and the memory
    /// expansion of every word allocated (temporaries included, although the run reuses their memory).
    function _gasBound(
        bytes calldata program,
        Layout memory layout
    ) private pure returns (uint256 gas, uint256 outputBytes) {
        // Safe (unchecked): the program is checked, so counts are at most 2^16, element counts at most 2^24 per
        // tensor, k and n at most 2^32: every product and sum below stays far under 2^256.
        unchecked {
            uint256[] memory meta = layout.meta;
            uint256 tensors = layout.inputCount + layout.constCount + layout.outputCount;
            gas = _G_FIXED + _G_TENSOR * tensors + _G_OP * layout.opCount + _G_SLOT * meta.length;
            // Memory: scratch, the layout and the meta array.
            uint256 words = 32 + meta.length;
            for (uint256 i; i < layout.inputCount; ++i) {
                gas += _G_INPUT_ELEMENT * _numelOf(meta[i]);
                words += _numelOf(meta[i]);
            }
            uint256 p = layout.consts;
            for (uint256 i; i < layout.constCount; ++i) {
                uint256 m = meta[_u16(program, p)];
                gas += _G_CONST_ELEMENT * _numelOf(m);
                words += _numelOf(m);
                p = p + 4 + 4 * _u8(program, p + 3) + _numelOf(m) * _size(_dtypeOf(m));
            }
            uint256 h = layout.ops;
            for (uint256 i; i < layout.opCount; ++i) {
                (uint256 opGas, uint256 opWords, uint256 next) = _opBound(program, meta, h);
                gas += opGas;
                words += opWords;
                h = next;
            }
            // The output list, encoded once in `_encodeOutputs` and once more by the ABI encoder of the return.
            outputBytes = 2;
            for (uint256 i; i < layout.outputCount; ++i) {
                uint256 m = meta[_u16(program, layout.outputs + 2 * i)];
                gas += _G_OUTPUT_ELEMENT * _numelOf(m);
                outputBytes += 2 + 4 * _u8(program, _headerOf(m) + 1) + _numelOf(m) * _size(_dtypeOf(m));
            }
            words += 2 * (outputBytes / 32 + 4);
            gas += 3 * words + (words * words) / 512;
        }
    }

    /// @dev The gas (without memory expansion) and the memory words of the op at `h`, and the offset of the next
    /// op (as `_runOps` walks them).
    function _opBound(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h
    ) private pure returns (uint256 gas, uint256 words, uint256 next) {
        // Safe (unchecked): as in `_gasBound`.
        unchecked {
            uint256 opcode = _u8(program, h);
            uint256 rank = _u8(program, h + 4);
            uint256 numel = _numelOf(meta[_u16(program, h + 1)]);
            uint256 b = h + 5 + 4 * rank;
            if (opcode == _OP_MATMUL) {
                (gas, words, next) = _matMulBound(program, meta, b);
            } else if (opcode <= _OP_MIN) {
                gas = _G_BINARY * numel;
                words = numel;
                next = b;
                for (uint256 j; j < 2; ++j) {
                    uint256 kind = _u8(program, next + 2);
                    if (kind == 0) {
                        next += 3;
                    } else if (kind == 1) {
                        gas += 300 + _G_MAP_BLOCK * numel;
                        words += numel;
                        next += 7;
                    } else {
                        gas += 300 + (_G_MAP_STRIDED + _G_MAP_STRIDED_DIM * rank) * numel;
                        words += numel + 3 * rank;
                        next += 3 + 4 * rank;
                    }
                }
            } else if (opcode == _OP_ARGMAX) {
                gas = _G_ARGMAX_IN * _numelOf(meta[_u16(program, b)]) + _G_ARGMAX_OUT * numel;
                words = numel;
                next = b + 15;
            } else if (opcode == _OP_GATHER) {
                gas = _G_GATHER * numel;
                words = numel;
                next = b + 16;
            } else if (opcode == _OP_RESHAPE) {
                next = b + 2;
            } else {
                gas = _G_UNARY * numel;
                words = numel;
                next = opcode == _OP_CLIP ? b + 18 : b + 2;
            }
        }
    }

    /// @dev `_opBound` of a MatMulInteger with body at `b`: per row, packing A, and per output element its
    /// correction and its dot product (one weight word per 32 multiply-accumulates).
    function _matMulBound(
        bytes calldata program,
        uint256[] memory meta,
        uint256 b
    ) private pure returns (uint256 gas, uint256 words, uint256 next) {
        // Safe (unchecked): as in `_gasBound`.
        unchecked {
            Dot memory d = _dotOf(program, b);
            uint256 rows = _numelOf(meta[_u16(program, b)]) / d.k;
            uint256 groups = (d.k + 31) / 32;
            gas = rows * (_G_MATMUL_ROW + _G_MATMUL_A * d.k + d.n * (_G_MATMUL_OUT + _G_MATMUL_GROUP * groups));
            words = rows * d.n + 4 * groups + 16;
            next = d.next;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // First pass: validation of the program (reverts on anything malformed)

    /// @dev Validates the whole program and returns its layout, with every slot's metadata (pointers still 0).
    function _check(bytes calldata program) private pure returns (Layout memory layout) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            _need(program, 1);
            uint256 version = _u8(program, 0);
            if (version != _VERSION) revert ExecutorUnsupportedVersion(uint8(version));
            _need(program, 4);
            uint256 slotCount = _u16(program, 1);
            uint256 inputCount = _u8(program, 3);
            if (inputCount > slotCount) revert ExecutorInvalidSlot(3, inputCount - 1, slotCount);
            uint256[] memory meta = new uint256[](slotCount);
            layout.meta = meta;
            layout.inputCount = inputCount;
            uint256 p = 4;
            layout.inputs = p;
            for (uint256 i; i < inputCount; ++i) {
                (uint256 dtype, uint256 numel, uint256 next) = _checkHeader(program, p);
                _need(program, next + 16);
                meta[i] = _pack(dtype, numel, p);
                p = next + 16;
            }
            _need(program, p + 2);
            layout.constCount = _u16(program, p);
            p += 2;
            layout.consts = p;
            for (uint256 i; i < layout.constCount; ++i) {
                _need(program, p + 2);
                uint256 slot = _u16(program, p);
                if (slot >= slotCount) revert ExecutorInvalidSlot(p, slot, slotCount);
                if (meta[slot] != 0) revert ExecutorSlotAlreadyWritten(p, slot);
                (uint256 dtype, uint256 numel, uint256 next) = _checkHeader(program, p + 2);
                meta[slot] = _pack(dtype, numel, p + 2);
                p = next + numel * _size(dtype);
                _need(program, p);
            }
            _need(program, p + 2);
            layout.opCount = _u16(program, p);
            p += 2;
            layout.ops = p;
            for (uint256 i; i < layout.opCount; ++i) p = _checkOp(program, meta, p);
            _need(program, p + 1);
            layout.outputCount = _u8(program, p);
            p += 1;
            layout.outputs = p;
            _need(program, p + 2 * layout.outputCount);
            for (uint256 i; i < layout.outputCount; ++i) {
                uint256 slot = _u16(program, p);
                if (slot >= slotCount) revert ExecutorInvalidSlot(p, slot, slotCount);
                if (meta[slot] == 0) revert ExecutorSlotNotWritten(p, slot);
                p += 2;
            }
            if (p != program.length) revert ExecutorProgramTrailingBytes(program.length, p);
        }
    }

    /// @dev Validates the tensor header `dtype | rank | dim * rank` at `p`; returns the dtype, the element count
    /// and the offset just past the header.
    function _checkHeader(
        bytes calldata program,
        uint256 p
    ) private pure returns (uint256 dtype, uint256 numel, uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            _need(program, p + 2);
            uint256 w = _word(program, p);
            dtype = w >> 248;
            if (_entry(dtype) == 0) revert ExecutorUnknownDtype(p, uint8(dtype));
            uint256 rank = (w >> 240) & 0xff;
            if (rank > _MAX_RANK) revert ExecutorRankTooLarge(p + 1, uint8(rank), uint8(_MAX_RANK));
            next = p + 2 + 4 * rank;
            _need(program, next);
            numel = 1;
            for (uint256 j; j < rank; ++j) {
                uint256 dim = _u32(program, p + 2 + 4 * j);
                if (dim == 0) revert ExecutorZeroDim(p + 2 + 4 * j);
                numel *= dim;
            }
            if (numel > _MAX_ELEMENTS) revert ExecutorTooManyElements(p + 1, numel, _MAX_ELEMENTS);
        }
    }

    /// @dev Validates the op at `h` and records its output slot; returns the offset of the next op.
    function _checkOp(bytes calldata program, uint256[] memory meta, uint256 h) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            _need(program, h + 3);
            uint256 opcode = _u8(program, h);
            if (opcode == 0 || opcode > _OP_GATHER) revert ExecutorInvalidOpcode(h, uint8(opcode));
            uint256 outSlot = _u16(program, h + 1);
            if (outSlot >= meta.length) revert ExecutorInvalidSlot(h + 1, outSlot, meta.length);
            if (meta[outSlot] != 0) revert ExecutorSlotAlreadyWritten(h + 1, outSlot);
            (uint256 dtype, uint256 numel, uint256 b) = _checkHeader(program, h + 3);
            if (opcode == _OP_MATMUL) {
                next = _checkMatMul(program, meta, h, dtype, numel, b);
            } else if (opcode <= _OP_MIN) {
                next = _checkMapped(program, meta, h, dtype, numel, b);
                next = _checkMapped(program, meta, h, dtype, numel, next);
            } else if (opcode == _OP_ARGMAX) {
                next = _checkArgMax(program, meta, h, dtype, numel, b);
            } else if (opcode == _OP_GATHER) {
                next = _checkGather(program, meta, h, dtype, numel, b);
            } else {
                // Relu, Clip, Reshape, Cast: one operand of the output's element count.
                uint256 x = _operand(program, meta, b);
                if (opcode != _OP_CAST && _dtypeOf(x) != dtype)
                    revert ExecutorDtypeMismatch(h, uint8(_dtypeOf(x)), uint8(dtype));
                if (_numelOf(x) != numel) revert ExecutorShapeMismatch(h, _numelOf(x), numel);
                next = b + 2;
                if (opcode == _OP_CLIP) {
                    next = b + 18;
                    _need(program, next);
                    (int256 min, int256 max) = _range(dtype);
                    int256 lo = _i64(program, b + 2);
                    int256 hi = _i64(program, b + 10);
                    if (lo < min || lo > max) revert ExecutorInvalidClipBound(b + 2, lo);
                    if (hi < min || hi > max) revert ExecutorInvalidClipBound(b + 10, hi);
                }
            }
            meta[outSlot] = _pack(dtype, numel, h + 3);
        }
    }

    /// @dev MatMulInteger body: `a k n aZero bSigned bZeroCount bZero* weights`.
    function _checkMatMul(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h,
        uint256 dtype,
        uint256 numel,
        uint256 b
    ) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 a = _operand(program, meta, b);
            uint256 aType = _dtypeOf(a);
            if (aType != _INT8 && aType != _UINT8) revert ExecutorUnsupportedDtype(b, uint8(aType));
            if (dtype != _INT32) revert ExecutorDtypeMismatch(h, uint8(dtype), uint8(_INT32));
            _need(program, b + 15);
            uint256 k = _u32(program, b + 2);
            uint256 n = _u32(program, b + 6);
            uint256 aNumel = _numelOf(a);
            if (k == 0 || aNumel % k != 0) revert ExecutorShapeMismatch(h, aNumel, k);
            if ((aNumel / k) * n != numel) revert ExecutorShapeMismatch(h, numel, (aNumel / k) * n);
            _checkZeroPoint(program, b + 10, aType);
            next = _checkWeights(program, b, k, n);
        }
    }

    /// @dev MatMulInteger's B: `bSigned bZeroCount bZero* weights` from offset b + 12 of the body at `b`; returns
    /// the offset past the weights.
    function _checkWeights(bytes calldata program, uint256 b, uint256 k, uint256 n) private pure returns (uint256) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 bSigned = _u8(program, b + 12);
            if (bSigned > 1) revert ExecutorInvalidFlag(b + 12, uint8(bSigned));
            uint256 bType = bSigned == 1 ? _INT8 : _UINT8;
            uint256 count = _u16(program, b + 13);
            if (count != 1 && count != n) revert ExecutorInvalidZeroPointCount(b + 13, count, n);
            _need(program, b + 15 + 2 * count);
            for (uint256 i; i < count; ++i) _checkZeroPoint(program, b + 15 + 2 * i, bType);
            uint256 next = b + 15 + 2 * count + n * k;
            _need(program, next);
            return next;
        }
    }

    /// @dev Reverts unless the i16 zero point at `p` lies in the range of `dtype` (int8 or uint8).
    function _checkZeroPoint(bytes calldata program, uint256 p, uint256 dtype) private pure {
        int256 z = _i16(program, p);
        (int256 min, int256 max) = _range(dtype);
        if (z < min || z > max) revert ExecutorInvalidZeroPoint(p, z);
    }

    /// @dev One operand of a binary op with its broadcast map, at `p`; returns the offset past the map.
    function _checkMapped(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h,
        uint256 dtype,
        uint256 numel,
        uint256 p
    ) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 x = _operand(program, meta, p);
            if (_dtypeOf(x) != dtype) revert ExecutorDtypeMismatch(h, uint8(_dtypeOf(x)), uint8(dtype));
            uint256 xNumel = _numelOf(x);
            _need(program, p + 3);
            uint256 kind = _u8(program, p + 2);
            if (kind == 0) {
                if (xNumel != numel) revert ExecutorShapeMismatch(p + 2, xNumel, numel);
                return p + 3;
            }
            if (kind == 1) {
                _need(program, p + 7);
                uint256 m = _u32(program, p + 3);
                if (m != xNumel) revert ExecutorShapeMismatch(p + 2, m, xNumel);
                if (numel % m != 0) revert ExecutorShapeMismatch(p + 2, m, numel);
                return p + 7;
            }
            if (kind != 2) revert ExecutorInvalidMapKind(p + 2, uint8(kind));
            return _checkStrides(program, h, p + 2, xNumel);
        }
    }

    /// @dev A strided map (kind byte at `p`) of an operand of `xNumel` elements into the output of the op at
    /// `h`: the largest index it reads must be below `xNumel`. Returns the offset past the strides.
    function _checkStrides(
        bytes calldata program,
        uint256 h,
        uint256 p,
        uint256 xNumel
    ) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 rank = _u8(program, h + 4);
            next = p + 1 + 4 * rank;
            _need(program, next);
            uint256 last;
            for (uint256 j; j < rank; ++j) {
                last += (_u32(program, h + 5 + 4 * j) - 1) * _u32(program, p + 1 + 4 * j);
            }
            if (last >= xNumel) revert ExecutorShapeMismatch(p, last + 1, xNumel);
        }
    }

    /// @dev ArgMax body: `x outer dim inner selectLastIndex`.
    function _checkArgMax(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h,
        uint256 dtype,
        uint256 numel,
        uint256 b
    ) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 x = _operand(program, meta, b);
            if (dtype != _INT64) revert ExecutorDtypeMismatch(h, uint8(dtype), uint8(_INT64));
            next = b + 15;
            _need(program, next);
            uint256 outer = _u32(program, b + 2);
            uint256 dim = _u32(program, b + 6);
            uint256 inner = _u32(program, b + 10);
            uint256 flag = _u8(program, b + 14);
            if (flag > 1) revert ExecutorInvalidFlag(b + 14, uint8(flag));
            if (outer * dim * inner != _numelOf(x)) revert ExecutorShapeMismatch(h, _numelOf(x), outer * dim * inner);
            if (outer * inner != numel) revert ExecutorShapeMismatch(h, numel, outer * inner);
        }
    }

    /// @dev Gather body: `data indices outer dim inner`.
    function _checkGather(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h,
        uint256 dtype,
        uint256 numel,
        uint256 b
    ) private pure returns (uint256 next) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            uint256 data = _operand(program, meta, b);
            uint256 indices = _operand(program, meta, b + 2);
            uint256 iType = _dtypeOf(indices);
            if (iType != _INT32 && iType != _INT64) revert ExecutorUnsupportedDtype(b + 2, uint8(iType));
            if (_dtypeOf(data) != dtype) revert ExecutorDtypeMismatch(h, uint8(_dtypeOf(data)), uint8(dtype));
            next = b + 16;
            _need(program, next);
            uint256 outer = _u32(program, b + 4);
            uint256 dim = _u32(program, b + 8);
            uint256 inner = _u32(program, b + 12);
            if (outer * dim * inner != _numelOf(data)) {
                revert ExecutorShapeMismatch(h, _numelOf(data), outer * dim * inner);
            }
            uint256 want = outer * _numelOf(indices) * inner;
            if (want != numel) revert ExecutorShapeMismatch(h, numel, want);
        }
    }

    /// @dev The metadata of the slot named by the u16 at `p`, which must exist and be written.
    function _operand(bytes calldata program, uint256[] memory meta, uint256 p) private pure returns (uint256 m) {
        // Safe (unchecked): offsets are at most the program's length (calldata, far below 2^64) plus a few header
        // bytes; dims, counts, k and n are u32 and element counts at most 2^24 (or the product of at most 8 dims below
        // 2^32), so sums and products of them stay below 2^256; every subtraction is of a value checked larger first
        // (dims >= 1, inputCount > slotCount >= 0).
        unchecked {
            _need(program, p + 2);
            uint256 slot = _u16(program, p);
            if (slot >= meta.length) revert ExecutorInvalidSlot(p, slot, meta.length);
            m = meta[slot];
            if (m == 0) revert ExecutorSlotNotWritten(p, slot);
        }
    }

    /// @dev Reverts unless the program holds at least `end` bytes.
    function _need(bytes calldata program, uint256 end) private pure {
        if (end > program.length) revert ExecutorProgramTruncated(program.length, end);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Second pass: inputs, constants, ops, outputs (the program is known to be well formed)

    /// @dev Decodes the input into the input slots; false if it is not exactly a tensor list of the declared
    /// inputs or an element is outside its declared range.
    function _readInputs(
        bytes calldata program,
        bytes calldata input,
        Layout memory layout
    ) private pure returns (bool) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            if (input.length < 2) return false;
            uint256 head = _word(input, 0);
            if (head >> 248 != 1 || (head >> 240) & 0xff != layout.inputCount) return false;
            uint256 p = 2;
            uint256 q = layout.inputs;
            uint256[] memory meta = layout.meta;
            for (uint256 i; i < layout.inputCount; ++i) {
                uint256 headerLength = 2 + 4 * _u8(program, q + 1);
                if (p + headerLength > input.length || !_sameHeader(program, q, input, p, headerLength)) return false;
                uint256 ptr;
                (ptr, p) = _readInput(program, input, meta[i], p + headerLength, q + headerLength);
                if (ptr == 0) return false;
                meta[i] |= ptr;
                q += headerLength + 16;
            }
            return p == input.length;
        }
    }

    /// @dev Reads the elements of input slot `m` from offset `start` of `input`, checking them against the
    /// declared [min, max] at offset `range` of the program. Returns the pointer to them (0 if the data is
    /// truncated or an element is out of range) and the offset past them.
    function _readInput(
        bytes calldata program,
        bytes calldata input,
        uint256 m,
        uint256 start,
        uint256 range
    ) private pure returns (uint256 ptr, uint256 end) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            end = start + _numelOf(m) * _size(_dtypeOf(m));
            if (end > input.length) return (0, end);
            uint256 elements = _readElements(input, start, m);
            if (_inRange(elements, _numelOf(m), _i64(program, range), _i64(program, range + 8))) ptr = elements;
        }
    }

    /// @dev Whether the `numel` words at `ptr` all lie in [min, max].
    function _inRange(uint256 ptr, uint256 numel, int256 min, int256 max) private pure returns (bool ok) {
        // Safe: reads the numel words at ptr only.
        assembly ("memory-safe") {
            let bad := 0
            for {
                let end := add(ptr, shl(5, numel))
            } lt(ptr, end) {
                ptr := add(ptr, 0x20)
            } {
                let v := mload(ptr)
                bad := or(bad, or(slt(v, min), sgt(v, max)))
            }
            ok := iszero(bad)
        }
    }

    /// @dev Whether the `length` (at most 34) bytes at `p` of `program` equal those at `q` of `input`. Both ranges
    /// are known to be present.
    function _sameHeader(
        bytes calldata program,
        uint256 p,
        bytes calldata input,
        uint256 q,
        uint256 length
    ) private pure returns (bool) {
        uint256 first = length > 32 ? 32 : length;
        uint256 shift = 256 - 8 * first;
        if (_word(program, p) >> shift != _word(input, q) >> shift) return false;
        if (length > 32 && _word(program, p + 32) >> 240 != _word(input, q + 32) >> 240) return false;
        return true;
    }

    /// @dev Allocates the elements of the slot with metadata `m` and reads them (big-endian, at the slot's dtype)
    /// from offset `start` of `data`; returns the pointer to them.
    function _readElements(bytes calldata data, uint256 start, uint256 m) private pure returns (uint256 ptr) {
        uint256 numel = _numelOf(m);
        ptr = _alloc(numel);
        (uint256 sb, ) = _wrapParams(_dtypeOf(m));
        uint256 size = _size(_dtypeOf(m));
        // Safe: reads calldata only within [start, start + numel * size), checked present by the caller (the
        // 32-byte load of the last element reads past it, but those bytes are shifted out), and writes only the
        // `numel` words just allocated.
        assembly ("memory-safe") {
            let src := add(data.offset, start)
            let shift := sub(256, shl(3, size))
            for {
                let dst := ptr
                let end := add(ptr, shl(5, numel))
            } lt(dst, end) {
                dst := add(dst, 0x20)
                src := add(src, size)
            } {
                mstore(dst, signextend(sb, shr(shift, calldataload(src))))
            }
        }
    }

    /// @dev Decodes every constant into its slot.
    function _loadConsts(bytes calldata program, Layout memory layout) private pure {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 p = layout.consts;
            uint256[] memory meta = layout.meta;
            for (uint256 i; i < layout.constCount; ++i) {
                uint256 slot = _u16(program, p);
                uint256 m = meta[slot];
                uint256 dtype = _dtypeOf(m);
                uint256 start = p + 4 + 4 * _u8(program, p + 3);
                uint256 ptr = _readElements(program, start, m);
                meta[slot] = m | ptr;
                p = start + _numelOf(m) * _size(dtype);
            }
        }
    }

    /// @dev Runs every op in order; false as soon as one fails (MODEL_ERROR).
    function _runOps(bytes calldata program, Layout memory layout) private pure returns (bool) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 h = layout.ops;
            uint256[] memory meta = layout.meta;
            for (uint256 i; i < layout.opCount; ++i) {
                uint256 opcode = _u8(program, h);
                uint256 outSlot = _u16(program, h + 1);
                uint256 b = h + 5 + 4 * _u8(program, h + 4);
                bool ok = true;
                if (opcode == _OP_MATMUL) {
                    (ok, h) = _runMatMul(program, meta, outSlot, b);
                } else if (opcode <= _OP_MIN) {
                    (ok, h) = _runBinary(program, meta, opcode, h, b);
                } else if (opcode == _OP_ARGMAX) {
                    _runArgMax(program, meta, outSlot, b);
                    h = b + 15;
                } else if (opcode == _OP_GATHER) {
                    ok = _runGather(program, meta, outSlot, b);
                    h = b + 16;
                } else if (opcode == _OP_RESHAPE) {
                    meta[outSlot] |= _ptrOf(meta[_u16(program, b)]);
                    h = b + 2;
                } else {
                    _runUnary(program, meta, opcode, outSlot, b);
                    h = opcode == _OP_CLIP ? b + 18 : b + 2;
                }
                if (!ok) return false;
            }
            return true;
        }
    }

    /// @dev MatMulInteger. Writes the output slot; false on an int32 overflow. Returns the offset of the next op.
    function _runMatMul(
        bytes calldata program,
        uint256[] memory meta,
        uint256 outSlot,
        uint256 b
    ) private pure returns (bool ok, uint256 next) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 a = meta[_u16(program, b)];
            Dot memory d = _dotOf(program, b);
            next = d.next;
            uint256 n = d.n;
            uint256 rows = _numelOf(a) / d.k;
            uint256 out = _alloc(rows * n);
            uint256 mark = _freePointer();
            // The packed row: 4 words per 32 elements of A (the last group zero-padded).
            uint256 xBytes = ((d.k + 31) / 32) * 0x80;
            d.x = _alloc(xBytes / 32);
            d.xEnd = d.x + xBytes;
            ok = true;
            for (uint256 r; r < rows; ++r) {
                int256 sumA = _packRow(_ptrOf(a) + r * d.k * 32, d);
                uint256 outRow = out + r * n * 32;
                _dotRow(d, outRow, n);
                if (!_correctRow(d, outRow, n, sumA)) ok = false;
            }
            _setFreePointer(mark);
            meta[outSlot] |= out;
        }
    }

    /// @dev What the MatMulInteger loops need, kept in memory to stay within the stack.
    struct Dot {
        uint256 weights;
        uint256 k;
        uint256 n;
        int256 aZero;
        int256 bOffset;
        uint256 zeros;
        uint256 zeroStride;
        uint256 x;
        uint256 xEnd;
        uint256 next;
    }

    /// @dev The fields of the MatMulInteger body at `b` (`x` and `xEnd` left for the caller).
    function _dotOf(bytes calldata program, uint256 b) private pure returns (Dot memory d) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 k = _u32(program, b + 2);
            uint256 n = _u32(program, b + 6);
            uint256 zeroCount = _u16(program, b + 13);
            uint256 weights = b + 15 + 2 * zeroCount;
            d.weights = _abs(program, weights);
            d.k = k;
            d.n = n;
            d.aZero = _i16(program, b + 10);
            d.bOffset = _u8(program, b + 12) == 1 ? int256(128) : int256(0);
            d.zeros = _abs(program, b + 15);
            d.zeroStride = zeroCount == 1 ? 0 : 2;
            d.next = weights + n * k;
        }
    }

    /// @dev Packs one row of A (k words at `row`) minus aZero into `d.x`: for each 32 elements starting at q0, 4
    /// words r = 0..3 whose 32-bit lane i holds element q0 + 4i + 3 - r (0 past k), so that lane i of word r
    /// meets, in `_dotRow`, the weight byte that the r-th 8-bit shift of a weight word brings into lane 7 - i.
    /// Returns the sum of the row's (a - aZero).
    function _packRow(uint256 row, Dot memory d) private pure returns (int256 sumA) {
        uint256 k = d.k;
        int256 aZero = d.aZero;
        uint256 x = d.x;
        uint256 xEnd = d.xEnd;
        // Safe: reads the k words of the row and writes only the packed buffer [x, xEnd). Each a - aZero is in
        // [-255, 255] (A is int8 or uint8 and aZero of the same dtype, checked in the first pass); shl of a
        // negative value is its two's complement times 2^(32 i) mod 2^256, which is what the polynomial product
        // in `_dotRow` needs. For whole groups of 32 elements, the group's sum is read from the packed words
        // with the same lane trick: the 4 words added lane by lane (each lane in [-1020, 1020]) times ONES (a 1
        // in every lane) hold the sum of all 32 values in lane 7, and lanes below it sum to less than 2^206 in
        // absolute value, so the biased top lane is exact. sumA is at most 255 * 2^24 in absolute value.
        assembly ("memory-safe") {
            let xp := x
            let base := row
            // Whole groups of 32 elements, unrolled.
            for {
                let fullEnd := add(x, shl(2, and(k, not(31))))
            } lt(xp, fullEnd) {
                xp := add(xp, 0x80)
                base := add(base, 0x400)
            } {
                let w0 := add(
                    add(
                        add(sub(mload(add(base, 0x60)), aZero), shl(32, sub(mload(add(base, 0xe0)), aZero))),
                        add(shl(64, sub(mload(add(base, 0x160)), aZero)), shl(96, sub(mload(add(base, 0x1e0)), aZero)))
                    ),
                    add(
                        add(
                            shl(128, sub(mload(add(base, 0x260)), aZero)),
                            shl(160, sub(mload(add(base, 0x2e0)), aZero))
                        ),
                        add(
                            shl(192, sub(mload(add(base, 0x360)), aZero)),
                            shl(224, sub(mload(add(base, 0x3e0)), aZero))
                        )
                    )
                )
                let w1 := add(
                    add(
                        add(sub(mload(add(base, 0x40)), aZero), shl(32, sub(mload(add(base, 0xc0)), aZero))),
                        add(shl(64, sub(mload(add(base, 0x140)), aZero)), shl(96, sub(mload(add(base, 0x1c0)), aZero)))
                    ),
                    add(
                        add(
                            shl(128, sub(mload(add(base, 0x240)), aZero)),
                            shl(160, sub(mload(add(base, 0x2c0)), aZero))
                        ),
                        add(
                            shl(192, sub(mload(add(base, 0x340)), aZero)),
                            shl(224, sub(mload(add(base, 0x3c0)), aZero))
                        )
                    )
                )
                let w2 := add(
                    add(
                        add(sub(mload(add(base, 0x20)), aZero), shl(32, sub(mload(add(base, 0xa0)), aZero))),
                        add(shl(64, sub(mload(add(base, 0x120)), aZero)), shl(96, sub(mload(add(base, 0x1a0)), aZero)))
                    ),
                    add(
                        add(
                            shl(128, sub(mload(add(base, 0x220)), aZero)),
                            shl(160, sub(mload(add(base, 0x2a0)), aZero))
                        ),
                        add(
                            shl(192, sub(mload(add(base, 0x320)), aZero)),
                            shl(224, sub(mload(add(base, 0x3a0)), aZero))
                        )
                    )
                )
                let w3 := add(
                    add(
                        add(sub(mload(add(base, 0x0)), aZero), shl(32, sub(mload(add(base, 0x80)), aZero))),
                        add(shl(64, sub(mload(add(base, 0x100)), aZero)), shl(96, sub(mload(add(base, 0x180)), aZero)))
                    ),
                    add(
                        add(
                            shl(128, sub(mload(add(base, 0x200)), aZero)),
                            shl(160, sub(mload(add(base, 0x280)), aZero))
                        ),
                        add(
                            shl(192, sub(mload(add(base, 0x300)), aZero)),
                            shl(224, sub(mload(add(base, 0x380)), aZero))
                        )
                    )
                )
                mstore(xp, w0)
                mstore(add(xp, 0x20), w1)
                mstore(add(xp, 0x40), w2)
                mstore(add(xp, 0x60), w3)
                let t := add(add(w0, w1), add(w2, w3))
                sumA := add(sumA, signextend(3, shr(224, add(mul(t, _LANE_ONES), _LANE_BIAS))))
            }
            // The last partial group, element by element (lanes past k stay 0).
            for {
                let q0 := and(k, not(31))
            } lt(xp, xEnd) {
                xp := add(xp, 0x80)
                q0 := add(q0, 32)
            } {
                for {
                    let r := 0
                } lt(r, 4) {
                    r := add(r, 1)
                } {
                    let word := 0
                    let q := add(q0, sub(3, r))
                    for {
                        let lane := 0
                    } lt(lane, 256) {
                        lane := add(lane, 32)
                        q := add(q, 4)
                    } {
                        if lt(q, k) {
                            let v := sub(mload(add(row, shl(5, q))), aZero)
                            word := add(word, shl(lane, v))
                            sumA := add(sumA, v)
                        }
                    }
                    mstore(add(xp, shl(5, r)), word)
                }
            }
        }
    }

    /// @dev For each of the n columns, writes C = sum over q of u[q] * (a[q] - aZero) to `outRow`, where u are the
    /// column's weight bytes (w + 128 for int8 B, w for uint8).
    ///
    /// One weight word holds 32 bytes u[q0..q0+31] (u[q0] most significant). `and(shr(8r, w), LANE_MASK)` keeps 8
    /// of them, one per 32-bit lane: lane i holds u[q0 + 31 - 4i - r]. Multiplied by packed word r (lane i' holds
    /// a[q0 + 4i' + 3 - r]), the product's lane 7 receives exactly the pairs i + i' = 7, i.e. the 8 products
    /// u[q] * a[q] for the same q; higher lanes fall off the word, lower lanes collect cross terms. Summing all
    /// products, lane 7 holds C (mod 2^32) and the lanes below hold a signed L with |L| < 2^222, so
    /// `shr(224, acc + 2^223)` is C mod 2^32, and `signextend(3, .)` is C when |C| < 2^31.
    ///
    /// Bounds, per block of at most 8192 elements (256 weight words, 1024 products): |u * (a - aZero)| <= 255^2;
    /// lane 7 sums 8192 such terms, |C| <= 8192 * 65025 < 2^30; lane p < 7 sums at most 7 * 1024 terms, under
    /// 2^29, so |L| < 2^29 * 2^193 < 2^222. Longer rows are split into blocks and the blocks' C summed exactly.
    /// Weight bytes past a column's end (the next column's, or zeros past the end of calldata) meet the packed
    /// row's zero lanes past k, so no tail loop is needed.
    function _dotRow(Dot memory d, uint256 outRow, uint256 n) private pure {
        uint256 k = d.k;
        uint256 x = d.x;
        uint256 xEnd = d.xEnd;
        uint256 wStart = d.weights;
        // Safe: reads calldata (weights of column c start at weights + c * k; reading past the end of the
        // program reads bytes that meet zero lanes, see above) and the packed buffer [x, xEnd); writes the n
        // words at outRow, allocated by `_runMatMul`. Every sum is taken mod 2^256 on purpose (see above).
        assembly ("memory-safe") {
            // C of the packed words [xp, xe) (at most one block) against the weights from calldata position wp:
            // 128 weights (4 words, 16 products) per iteration, then 32 per iteration.
            function dot(wp, xp, xe) -> c {
                let acc := 0
                for {} lt(add(xp, 0x1e0), xe) {
                    xp := add(xp, 0x200)
                    wp := add(wp, 0x80)
                } {
                    let w := calldataload(wp)
                    acc := add(
                        acc,
                        add(
                            add(
                                mul(and(w, _LANE_MASK), mload(xp)),
                                mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x20)))
                            ),
                            add(
                                mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x40))),
                                mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x60)))
                            )
                        )
                    )
                    w := calldataload(add(wp, 0x20))
                    acc := add(
                        acc,
                        add(
                            add(
                                mul(and(w, _LANE_MASK), mload(add(xp, 0x80))),
                                mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0xa0)))
                            ),
                            add(
                                mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0xc0))),
                                mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0xe0)))
                            )
                        )
                    )
                    w := calldataload(add(wp, 0x40))
                    acc := add(
                        acc,
                        add(
                            add(
                                mul(and(w, _LANE_MASK), mload(add(xp, 0x100))),
                                mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x120)))
                            ),
                            add(
                                mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x140))),
                                mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x160)))
                            )
                        )
                    )
                    w := calldataload(add(wp, 0x60))
                    acc := add(
                        acc,
                        add(
                            add(
                                mul(and(w, _LANE_MASK), mload(add(xp, 0x180))),
                                mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x1a0)))
                            ),
                            add(
                                mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x1c0))),
                                mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x1e0)))
                            )
                        )
                    )
                }
                for {} lt(xp, xe) {
                    xp := add(xp, 0x80)
                    wp := add(wp, 0x20)
                } {
                    let w := calldataload(wp)
                    acc := add(
                        acc,
                        add(
                            add(
                                mul(and(w, _LANE_MASK), mload(xp)),
                                mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x20)))
                            ),
                            add(
                                mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x40))),
                                mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x60)))
                            )
                        )
                    )
                }
                c := signextend(3, shr(224, add(acc, _LANE_BIAS)))
            }
            let outEnd := add(outRow, shl(5, n))
            // Rows of at most one block (k <= 8192, the usual case): one loop per column, no block bookkeeping.
            if iszero(gt(sub(xEnd, x), _BLOCK_BYTES)) {
                for {
                    let op := outRow
                } lt(op, outEnd) {
                    op := add(op, 0x20)
                    wStart := add(wStart, k)
                } {
                    let acc := 0
                    let wp := wStart
                    let xp := x
                    for {} lt(add(xp, 0x1e0), xEnd) {
                        xp := add(xp, 0x200)
                        wp := add(wp, 0x80)
                    } {
                        let w := calldataload(wp)
                        acc := add(
                            acc,
                            add(
                                add(
                                    mul(and(w, _LANE_MASK), mload(xp)),
                                    mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x20)))
                                ),
                                add(
                                    mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x40))),
                                    mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x60)))
                                )
                            )
                        )
                        w := calldataload(add(wp, 0x20))
                        acc := add(
                            acc,
                            add(
                                add(
                                    mul(and(w, _LANE_MASK), mload(add(xp, 0x80))),
                                    mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0xa0)))
                                ),
                                add(
                                    mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0xc0))),
                                    mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0xe0)))
                                )
                            )
                        )
                        w := calldataload(add(wp, 0x40))
                        acc := add(
                            acc,
                            add(
                                add(
                                    mul(and(w, _LANE_MASK), mload(add(xp, 0x100))),
                                    mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x120)))
                                ),
                                add(
                                    mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x140))),
                                    mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x160)))
                                )
                            )
                        )
                        w := calldataload(add(wp, 0x60))
                        acc := add(
                            acc,
                            add(
                                add(
                                    mul(and(w, _LANE_MASK), mload(add(xp, 0x180))),
                                    mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x1a0)))
                                ),
                                add(
                                    mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x1c0))),
                                    mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x1e0)))
                                )
                            )
                        )
                    }
                    for {} lt(xp, xEnd) {
                        xp := add(xp, 0x80)
                        wp := add(wp, 0x20)
                    } {
                        let w := calldataload(wp)
                        acc := add(
                            acc,
                            add(
                                add(
                                    mul(and(w, _LANE_MASK), mload(xp)),
                                    mul(and(shr(8, w), _LANE_MASK), mload(add(xp, 0x20)))
                                ),
                                add(
                                    mul(and(shr(16, w), _LANE_MASK), mload(add(xp, 0x40))),
                                    mul(and(shr(24, w), _LANE_MASK), mload(add(xp, 0x60)))
                                )
                            )
                        )
                    }
                    mstore(op, signextend(3, shr(224, add(acc, _LANE_BIAS))))
                }
                outEnd := 0
            }
            // Longer rows: block by block.
            for {
                let op := outRow
            } lt(op, outEnd) {
                op := add(op, 0x20)
                wStart := add(wStart, k)
            } {
                let total := 0
                let wp := wStart
                for {
                    let xp := x
                } lt(xp, xEnd) {
                    xp := add(xp, _BLOCK_BYTES)
                    wp := add(wp, shr(2, _BLOCK_BYTES))
                } {
                    let xe := add(xp, _BLOCK_BYTES)
                    if gt(xe, xEnd) {
                        xe := xEnd
                    }
                    total := add(total, dot(wp, xp, xe))
                }
                mstore(op, total)
            }
        }
    }

    /// @dev Turns the row's sums C into outputs: out = C - (bOffset + bZero[c]) * sumA = sum of (a - aZero) *
    /// (w - bZero). False if one is outside int32.
    function _correctRow(Dot memory d, uint256 outRow, uint256 n, int256 sumA) private pure returns (bool ok) {
        int256 bOffset = d.bOffset;
        uint256 zp = d.zeros;
        uint256 stride = d.zeroStride;
        // Safe: rewrites the n words at outRow; zero points are read within the op's body (checked present).
        // |C| <= 2^24 * 255^2 < 2^40 and |(bOffset + bZero) * sumA| <= 255 * 255 * 2^24 < 2^40: no overflow.
        assembly ("memory-safe") {
            let bad := 0
            let end := add(outRow, shl(5, n))
            for {
                let op := outRow
            } lt(op, end) {
                op := add(op, 0x20)
                zp := add(zp, stride)
            } {
                let zero := signextend(1, shr(240, calldataload(zp)))
                let v := sub(mload(op), mul(add(bOffset, zero), sumA))
                bad := or(bad, xor(signextend(3, v), v))
                mstore(op, v)
            }
            ok := iszero(bad)
        }
    }

    /// @dev Add, Sub, Mul, Div, Max, Min with broadcast maps. False on an out-of-range result or a zero divisor.
    function _runBinary(
        bytes calldata program,
        uint256[] memory meta,
        uint256 opcode,
        uint256 h,
        uint256 b
    ) private pure returns (bool ok, uint256 next) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 outSlot = _u16(program, h + 1);
            uint256 m = meta[outSlot];
            uint256 numel = _numelOf(m);
            uint256 out = _alloc(numel);
            uint256 mark = _freePointer();
            uint256 pa;
            uint256 pb;
            (pa, next) = _mapped(program, meta, h, numel, b);
            (pb, next) = _mapped(program, meta, h, numel, next);
            ok = _binaryLoop(opcode, _dtypeOf(m), pa, pb, out, numel);
            _setFreePointer(mark);
            meta[outSlot] = m | out;
        }
    }

    /// @dev out[i] = op(pa[i], pb[i]) for i < numel; false if a result leaves `dtype` or a divisor is zero.
    function _binaryLoop(
        uint256 opcode,
        uint256 dtype,
        uint256 pa,
        uint256 pb,
        uint256 out,
        uint256 numel
    ) private pure returns (bool ok) {
        (uint256 sb, uint256 mask) = _wrapParams(dtype);
        // Safe: pa, pb and out each hold numel words (the maps were materialised to the output's element count).
        // Operands are within their dtype (at most 64 bits), so add, sub and mul are exact in 256 bits; sdiv by
        // zero yields 0 in the EVM and is flagged; INT_MIN / -1 of a narrower dtype fits 256 bits and is caught
        // by the range check. A result is in range iff wrapping it to the dtype leaves it unchanged.
        assembly ("memory-safe") {
            let bad := 0
            let end := add(out, shl(5, numel))
            let d := sub(pb, pa)
            let o := sub(out, pa)
            switch opcode
            case 2 {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let v := add(mload(pa), mload(add(pa, d)))
                    bad := or(bad, xor(and(signextend(sb, v), mask), v))
                    mstore(add(pa, o), v)
                }
            }
            case 3 {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let v := sub(mload(pa), mload(add(pa, d)))
                    bad := or(bad, xor(and(signextend(sb, v), mask), v))
                    mstore(add(pa, o), v)
                }
            }
            case 4 {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let v := mul(mload(pa), mload(add(pa, d)))
                    bad := or(bad, xor(and(signextend(sb, v), mask), v))
                    mstore(add(pa, o), v)
                }
            }
            case 5 {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let y := mload(add(pa, d))
                    let v := sdiv(mload(pa), y)
                    bad := or(bad, or(iszero(y), xor(and(signextend(sb, v), mask), v)))
                    mstore(add(pa, o), v)
                }
            }
            case 6 {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let u := mload(pa)
                    let y := mload(add(pa, d))
                    mstore(add(pa, o), xor(y, mul(xor(u, y), sgt(u, y))))
                }
            }
            default {
                for {} lt(add(pa, o), end) {
                    pa := add(pa, 0x20)
                } {
                    let u := mload(pa)
                    let y := mload(add(pa, d))
                    mstore(add(pa, o), xor(y, mul(xor(u, y), slt(u, y))))
                }
            }
            ok := iszero(bad)
        }
    }

    /// @dev The operand at `p` with its broadcast map, as a pointer to `numel` words lined up with the output:
    /// the operand's own data for map kind 0, else a copy materialised in a temporary buffer. Returns the offset
    /// past the map.
    function _mapped(
        bytes calldata program,
        uint256[] memory meta,
        uint256 h,
        uint256 numel,
        uint256 p
    ) private pure returns (uint256 ptr, uint256 next) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 src = _ptrOf(meta[_u16(program, p)]);
            uint256 kind = _u8(program, p + 2);
            if (kind == 0) return (src, p + 3);
            ptr = _alloc(numel);
            if (kind == 1) {
                uint256 blockBytes = _u32(program, p + 3) * 32;
                uint256 totalBytes = numel * 32;
                // Safe: copies the operand's m words (blockBytes) once, then doubles the filled prefix until the
                // numel words of the buffer are full; m divides numel (first pass), and every copy stays within the
                // buffer.
                assembly ("memory-safe") {
                    mcopy(ptr, src, blockBytes)
                    for {
                        let filled := blockBytes
                    } lt(filled, totalBytes) {} {
                        let len := filled
                        if gt(add(filled, len), totalBytes) {
                            len := sub(totalBytes, filled)
                        }
                        mcopy(add(ptr, filled), ptr, len)
                        filled := add(filled, len)
                    }
                }
                return (ptr, p + 7);
            }
            uint256 rank = _u8(program, h + 4);
            next = p + 3 + 4 * rank;
            _gatherStrided(program, h + 5, p + 3, rank, src, ptr, numel);
        }
    }

    /// @dev Fills `numel` words at `dst` with the operand element of each output index for a strided map (kind 2):
    /// index = sum over output dims j of digit j * stride j.
    function _gatherStrided(
        bytes calldata program,
        uint256 dims,
        uint256 strides,
        uint256 rank,
        uint256 src,
        uint256 dst,
        uint256 numel
    ) private pure {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            // Odometer state in a scratch area past the buffer: per dim its size, stride and current digit.
            uint256 scratch = _alloc(3 * rank);
            for (uint256 j; j < rank; ++j) {
                uint256 s = scratch + 96 * j;
                uint256 dim = _u32(program, dims + 4 * j);
                uint256 stride = _u32(program, strides + 4 * j);
                // Safe: writes the 3 words of dim j of the scratch area just allocated.
                assembly ("memory-safe") {
                    mstore(s, dim)
                    mstore(add(s, 0x20), stride)
                    mstore(add(s, 0x40), 0)
                }
            }
            // Safe: every index is at most sum of (dim_j - 1) * stride_j, checked below the operand's element count
            // in the first pass; writes the numel words at dst.
            assembly ("memory-safe") {
                let index := 0
                let end := add(dst, shl(5, numel))
                let last := add(scratch, mul(96, rank))
                for {} lt(dst, end) {
                    dst := add(dst, 0x20)
                } {
                    mstore(dst, mload(add(src, shl(5, index))))
                    // Increment the odometer from the last dim.
                    for {
                        let s := last
                    } gt(s, scratch) {} {
                        s := sub(s, 96)
                        let digit := add(mload(add(s, 0x40)), 1)
                        let stride := mload(add(s, 0x20))
                        if lt(digit, mload(s)) {
                            mstore(add(s, 0x40), digit)
                            index := add(index, stride)
                            break
                        }
                        mstore(add(s, 0x40), 0)
                        index := sub(index, mul(stride, sub(digit, 1)))
                    }
                }
            }
        }
    }

    /// @dev Relu, Clip, Cast: one output element per input element.
    function _runUnary(
        bytes calldata program,
        uint256[] memory meta,
        uint256 opcode,
        uint256 outSlot,
        uint256 b
    ) private pure {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 m = meta[outSlot];
            uint256 numel = _numelOf(m);
            uint256 src = _ptrOf(meta[_u16(program, b)]);
            uint256 out = _alloc(numel);
            (uint256 sb, uint256 mask) = _wrapParams(_dtypeOf(m));
            int256 lo;
            int256 hi;
            if (opcode == _OP_CLIP) {
                lo = _i64(program, b + 2);
                hi = _i64(program, b + 10);
            }
            // Safe: reads numel words at src and writes numel words at out (the first pass checked both slots hold
            // numel elements). Relu and Clip keep values within the dtype (the bounds are within it); Cast wraps to
            // the target width like C's static_cast: signextend for signed targets, a mask for uint8.
            assembly ("memory-safe") {
                let end := add(out, shl(5, numel))
                let d := sub(src, out)
                switch opcode
                case 8 {
                    for {
                        let o := out
                    } lt(o, end) {
                        o := add(o, 0x20)
                    } {
                        let v := mload(add(o, d))
                        mstore(o, mul(v, sgt(v, 0)))
                    }
                }
                case 9 {
                    for {
                        let o := out
                    } lt(o, end) {
                        o := add(o, 0x20)
                    } {
                        let v := mload(add(o, d))
                        if slt(v, lo) {
                            v := lo
                        }
                        if sgt(v, hi) {
                            v := hi
                        }
                        mstore(o, v)
                    }
                }
                default {
                    for {
                        let o := out
                    } lt(o, end) {
                        o := add(o, 0x20)
                    } {
                        mstore(o, and(signextend(sb, mload(add(o, d))), mask))
                    }
                }
            }
            meta[outSlot] = m | out;
        }
    }

    /// @dev ArgMax over `dim` of [outer, dim, inner]: int64 index of the largest element, ties to the first (or,
    /// with selectLastIndex, the last).
    function _runArgMax(bytes calldata program, uint256[] memory meta, uint256 outSlot, uint256 b) private pure {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 src = _ptrOf(meta[_u16(program, b)]);
            uint256 outer = _u32(program, b + 2);
            uint256 dim = _u32(program, b + 6);
            uint256 inner = _u32(program, b + 10);
            uint256 last = _u8(program, b + 14);
            uint256 out = _alloc(outer * inner);
            // Safe: outer * dim * inner is the input's element count and outer * inner the output's (first pass);
            // every read is within the input, every write within the output.
            assembly ("memory-safe") {
                let rowBytes := shl(5, inner)
                let o := out
                for {
                    let base := src
                    let end := add(src, mul(rowBytes, mul(outer, dim)))
                } lt(base, end) {
                    base := add(base, mul(rowBytes, dim))
                } {
                    for {
                        let i := 0
                    } lt(i, rowBytes) {
                        i := add(i, 0x20)
                    } {
                        let p := add(base, i)
                        let best := 0
                        let bestValue := mload(p)
                        for {
                            let kk := 1
                        } lt(kk, dim) {
                            kk := add(kk, 1)
                        } {
                            p := add(p, rowBytes)
                            let v := mload(p)
                            if or(sgt(v, bestValue), and(last, eq(v, bestValue))) {
                                best := kk
                                bestValue := v
                            }
                        }
                        mstore(o, best)
                        o := add(o, 0x20)
                    }
                }
            }
            meta[outSlot] |= out;
        }
    }

    /// @dev Gather along `dim` of [outer, dim, inner] with int32 / int64 indices (negative ones count from the
    /// end). False on an index outside [-dim, dim - 1].
    function _runGather(
        bytes calldata program,
        uint256[] memory meta,
        uint256 outSlot,
        uint256 b
    ) private pure returns (bool ok) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256 data = _ptrOf(meta[_u16(program, b)]);
            uint256 im = meta[_u16(program, b + 2)];
            uint256 indices = _ptrOf(im);
            uint256 indicesEnd = indices + 32 * _numelOf(im);
            uint256 outer = _u32(program, b + 4);
            uint256 dim = _u32(program, b + 8);
            uint256 inner = _u32(program, b + 12);
            uint256 out = _alloc(_numelOf(meta[outSlot]));
            // Safe: an index is used only once it is known to lie in [-dim, dim - 1] (then in [0, dim - 1]), so every
            // copied row is within the data's outer * dim * inner elements; the writes fill exactly the output's
            // outer * numel(indices) * inner words.
            assembly ("memory-safe") {
                let rowBytes := shl(5, inner)
                let o := out
                ok := 1
                for {
                    let base := data
                    let end := add(data, mul(rowBytes, mul(outer, dim)))
                } lt(base, end) {
                    base := add(base, mul(rowBytes, dim))
                } {
                    for {
                        let ip := indices
                    } lt(ip, indicesEnd) {
                        ip := add(ip, 0x20)
                    } {
                        let kk := mload(ip)
                        if slt(kk, 0) {
                            kk := add(kk, dim)
                        }
                        // After the shift, a valid index is in [0, dim - 1]; anything else (including a negative
                        // one, huge as unsigned) fails.
                        if iszero(lt(kk, dim)) {
                            ok := 0
                            break
                        }
                        mcopy(o, add(base, mul(kk, rowBytes)), rowBytes)
                        o := add(o, rowBytes)
                    }
                    if iszero(ok) {
                        break
                    }
                }
            }
            meta[outSlot] |= out;
        }
    }

    /// @dev The canonical tensor list of the outputs.
    function _encodeOutputs(bytes calldata program, Layout memory layout) private pure returns (bytes memory output) {
        // Safe (unchecked): offsets stay within the program or the input (calldata, far below 2^64; the first pass
        // checked the program's, the input's are checked before use), dims, counts and element counts are at most
        // 2^32 (2^24 for element counts), and memory sizes derived from them are far below 2^64: nothing can wrap.
        unchecked {
            uint256[] memory meta = layout.meta;
            uint256 count = layout.outputCount;
            uint256 length = 2;
            for (uint256 i; i < count; ++i) {
                uint256 m = meta[_u16(program, layout.outputs + 2 * i)];
                length += 2 + 4 * _u8(program, _headerOf(m) + 1) + _numelOf(m) * _size(_dtypeOf(m));
            }
            output = new bytes(length);
            uint256 dst;
            // Safe: writes the version and count bytes into the buffer just allocated (its length word follows).
            assembly ("memory-safe") {
                dst := add(output, 0x20)
                mstore(dst, or(shl(248, 1), shl(240, count)))
                dst := add(dst, 2)
            }
            for (uint256 i; i < count; ++i) {
                uint256 m = meta[_u16(program, layout.outputs + 2 * i)];
                uint256 header = _abs(program, _headerOf(m));
                uint256 headerLength = 2 + 4 * _u8(program, _headerOf(m) + 1);
                uint256 size = _size(_dtypeOf(m));
                uint256 src = _ptrOf(m);
                uint256 end = src + 32 * _numelOf(m);
                // Safe: writes exactly this tensor's header and elements, in order, within `output`'s `length`
                // bytes; each 32-byte mstore puts the element in its leading `size` bytes (shl keeps its low bytes,
                // its two's complement) and its trailing bytes are overwritten by what follows. The last store may
                // spill up to 31 bytes past `length`: the padding zeroed below (and reserved by `new bytes`, which
                // rounds the allocation up to whole words, plus the word zeroed after it).
                assembly ("memory-safe") {
                    calldatacopy(dst, header, headerLength)
                    dst := add(dst, headerLength)
                    let shift := sub(256, shl(3, size))
                    for {} lt(src, end) {
                        src := add(src, 0x20)
                    } {
                        mstore(dst, shl(shift, mload(src)))
                        dst := add(dst, size)
                    }
                }
            }
            // Safe: zeroes the bytes after `length` up to the next word boundary and one word beyond, then moves the
            // free memory pointer past that word so that no later allocation overlaps the spill.
            assembly ("memory-safe") {
                mstore(dst, 0)
                mstore(0x40, add(dst, 0x20))
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers

    /// @dev Allocates `words` words at the free memory pointer (not zeroed).
    function _alloc(uint256 words) private pure returns (uint256 ptr) {
        // Safe: the standard bump allocation; `words` is at most a few times 2^24, so the pointer cannot wrap.
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(0x40, add(ptr, shl(5, words)))
        }
    }

    /// @dev The free memory pointer.
    function _freePointer() private pure returns (uint256 ptr) {
        // Safe: reads only.
        assembly ("memory-safe") {
            ptr := mload(0x40)
        }
    }

    /// @dev Releases everything allocated after `ptr` (temporaries of one op, never referenced afterwards).
    function _setFreePointer(uint256 ptr) private pure {
        // Safe: callers pass a pointer taken after allocating everything that outlives the op.
        assembly ("memory-safe") {
            mstore(0x40, ptr)
        }
    }

    /// @dev The 32 bytes of `data` from offset `p` on (callers use only the bytes they bounds-checked).
    function _word(bytes calldata data, uint256 p) private pure returns (uint256 w) {
        // Safe: reads calldata only; bytes past the end of calldata read as zero.
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, p))
        }
    }

    /// @dev The absolute calldata position of offset `p` of `data`.
    function _abs(bytes calldata data, uint256 p) private pure returns (uint256) {
        return _offsetOf(data) + p;
    }

    /// @dev The calldata offset of `data`.
    function _offsetOf(bytes calldata data) private pure returns (uint256 offset) {
        // Safe: reads a calldata slice's offset.
        assembly ("memory-safe") {
            offset := data.offset
        }
    }

    /// @dev The big-endian integers at offset `p` of `data` (callers bounds-check first). Safe: calldata reads
    /// only; bytes past the end of calldata read as zero.
    function _u8(bytes calldata data, uint256 p) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(248, calldataload(add(data.offset, p)))
        }
    }

    function _u16(bytes calldata data, uint256 p) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(240, calldataload(add(data.offset, p)))
        }
    }

    function _u32(bytes calldata data, uint256 p) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(224, calldataload(add(data.offset, p)))
        }
    }

    function _i16(bytes calldata data, uint256 p) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(1, shr(240, calldataload(add(data.offset, p))))
        }
    }

    function _i64(bytes calldata data, uint256 p) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(7, shr(192, calldataload(add(data.offset, p))))
        }
    }

    /// @dev The `_DTYPE_TABLE` entry of `dtype` (0 if not in the subset; shifts of 256 bits or more yield 0).
    function _entry(uint256 dtype) private pure returns (uint256) {
        return (_DTYPE_TABLE >> (dtype << 3)) & 0xff;
    }

    function _size(uint256 dtype) private pure returns (uint256) {
        return _entry(dtype) & 0x0f;
    }

    /// @dev The inclusive range of a dtype of the subset.
    function _range(uint256 dtype) private pure returns (int256 min, int256 max) {
        uint256 bits = _size(dtype) * 8;
        if (dtype == _UINT8) return (0, 255);
        max = int256((1 << (bits - 1)) - 1);
        min = -max - 1;
    }

    /// @dev `and(signextend(sb, v), mask)` wraps v to `dtype` like C's static_cast: signextend from the top byte
    /// for signed dtypes (mask all ones), the low byte for uint8 (sb = 31 leaves v unchanged).
    function _wrapParams(uint256 dtype) private pure returns (uint256 sb, uint256 mask) {
        if (dtype == _UINT8) return (31, 0xff);
        return (_size(dtype) - 1, type(uint256).max);
    }

    function _pack(uint256 dtype, uint256 numel, uint256 header) private pure returns (uint256) {
        return (dtype << 192) | (header << 128) | (numel << 64);
    }

    function _ptrOf(uint256 m) private pure returns (uint256) {
        return m & _MASK64;
    }

    function _numelOf(uint256 m) private pure returns (uint256) {
        return (m >> 64) & _MASK64;
    }

    function _headerOf(uint256 m) private pure returns (uint256) {
        return (m >> 128) & _MASK64;
    }

    function _dtypeOf(uint256 m) private pure returns (uint256) {
        return m >> 192;
    }
}
