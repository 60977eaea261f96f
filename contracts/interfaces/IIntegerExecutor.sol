// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIntegerExecutor
/// @notice On-chain re-execution of a verifiable (integer-only) model: interprets a model's program (format
/// version 1, see `oracle/src/verify/program.ts`) on a request's input and returns the result code and the
/// canonical output tensor list (`docs/tensor-encoding.md`), bit for bit what the reference interpreter
/// (`oracle/src/verify/reference.ts`) computes.
/// @dev A malformed program is not a result: it reverts with one of the `Executor*` errors below, whatever the
/// input. Every `offset` argument is a byte offset into the program: the offset of the field holding the bad value,
/// or, for the errors that relate several fields of one op (`ExecutorShapeMismatch`, `ExecutorDtypeMismatch`), the
/// offset of the op's opcode byte.
interface IIntegerExecutor {
    /// @notice The program's version byte is not 1.
    /// @param have The version byte found.
    error ExecutorUnsupportedVersion(uint8 have);
    /// @notice The program ends inside a field.
    /// @param have The program length in bytes.
    /// @param want The length needed to read the field (offset of its end).
    error ExecutorProgramTruncated(uint256 have, uint256 want);
    /// @notice Bytes follow the program's output list.
    /// @param have The program length in bytes.
    /// @param want The length of the program (offset of the end of its output list).
    error ExecutorProgramTrailingBytes(uint256 have, uint256 want);
    /// @notice An op's opcode is not one of the format's 13 opcodes.
    /// @param offset Offset of the opcode byte.
    /// @param opcode The opcode found.
    error ExecutorInvalidOpcode(uint256 offset, uint8 opcode);
    /// @notice A slot number is not below the program's slot count (or an input index is not).
    /// @param offset Offset of the slot field (of the input count for inputs).
    /// @param slot The slot found.
    /// @param slotCount The program's slot count.
    error ExecutorInvalidSlot(uint256 offset, uint256 slot, uint256 slotCount);
    /// @notice An op or the output list reads a slot no input, constant or earlier op has written.
    /// @param offset Offset of the slot field.
    /// @param slot The slot read.
    error ExecutorSlotNotWritten(uint256 offset, uint256 slot);
    /// @notice A constant or op writes a slot that is already written (slots are written once).
    /// @param offset Offset of the slot field.
    /// @param slot The slot written twice.
    error ExecutorSlotAlreadyWritten(uint256 offset, uint256 slot);
    /// @notice A dtype code is not one of the subset's (uint8 2, int8 3, int32 6, int64 7).
    /// @param offset Offset of the dtype byte.
    /// @param dtype The code found.
    error ExecutorUnknownDtype(uint256 offset, uint8 dtype);
    /// @notice An operand's dtype is one the op does not take (MatMulInteger's A: int8 or uint8; Gather's
    /// indices: int32 or int64).
    /// @param offset Offset of the operand's slot field.
    /// @param dtype The operand's dtype.
    error ExecutorUnsupportedDtype(uint256 offset, uint8 dtype);
    /// @notice An op's output or operand dtype differs from the one the op requires (e.g. an Add whose operands
    /// are not of its output dtype, a MatMulInteger whose output is not int32).
    /// @param offset Offset of the op.
    /// @param have The dtype found.
    /// @param want The dtype required.
    error ExecutorDtypeMismatch(uint256 offset, uint8 have, uint8 want);
    /// @notice A tensor header has more than 8 dims.
    /// @param offset Offset of the rank byte.
    /// @param have The rank found.
    /// @param max The highest rank allowed.
    error ExecutorRankTooLarge(uint256 offset, uint8 have, uint8 max);
    /// @notice A tensor header has a dim of zero (the tensor encoding cannot represent empty tensors).
    /// @param offset Offset of the dim.
    error ExecutorZeroDim(uint256 offset);
    /// @notice A tensor header's dims multiply to more than 2^24 elements.
    /// @param offset Offset of the rank byte.
    /// @param have The product of the dims.
    /// @param max The most elements allowed.
    error ExecutorTooManyElements(uint256 offset, uint256 have, uint256 max);
    /// @notice The element counts of an op's operands, fields and output do not agree.
    /// @param offset Offset of the op (of the broadcast map for a map that reads outside its operand).
    /// @param have The element count found (for MatMulInteger's A: its element count, which must be a multiple of
    /// k; for a broadcast map: the elements it reads, or its `m`).
    /// @param want The element count the op's fields and output require.
    error ExecutorShapeMismatch(uint256 offset, uint256 have, uint256 want);
    /// @notice A broadcast map's kind is not 0, 1 or 2.
    /// @param offset Offset of the kind byte.
    /// @param kind The kind found.
    error ExecutorInvalidMapKind(uint256 offset, uint8 kind);
    /// @notice A MatMulInteger zero point lies outside its operand's dtype range.
    /// @param offset Offset of the zero point.
    /// @param value The zero point found.
    error ExecutorInvalidZeroPoint(uint256 offset, int256 value);
    /// @notice A MatMulInteger's bZeroCount is neither 1 nor n.
    /// @param offset Offset of the bZeroCount field.
    /// @param have The count found.
    /// @param columns The op's n.
    error ExecutorInvalidZeroPointCount(uint256 offset, uint256 have, uint256 columns);
    /// @notice A flag byte (MatMulInteger's bSigned, ArgMax's selectLastIndex) is neither 0 nor 1.
    /// @param offset Offset of the flag.
    /// @param value The byte found.
    error ExecutorInvalidFlag(uint256 offset, uint8 value);
    /// @notice A Clip bound lies outside the dtype range of the op's output.
    /// @param offset Offset of the bound.
    /// @param value The bound found.
    error ExecutorInvalidClipBound(uint256 offset, int256 value);

    /// @notice Runs `program` on `input`.
    /// @dev Deterministic and stateless. The result is one of:
    /// - `(ResultCodes.OK, output)`: `output` is the canonical tensor list of the program's outputs, in program
    ///   order, each with its slot's dtype and shape;
    /// - `(ResultCodes.INVALID_INPUT, "")`: `input` is not exactly a tensor list of the program's inputs (version
    ///   byte, count, each dtype, rank and dims equal to the declared ones, exact length) or an element lies
    ///   outside its input's declared [min, max];
    /// - `(ResultCodes.MODEL_ERROR, "")`: a value an op computes leaves its output dtype's range (Add, Sub, Mul,
    ///   Div, MatMulInteger: the reference's INTEGER_OVERFLOW), a Div divides by zero, or a Gather index lies
    ///   outside [-dim, dim - 1]. Cast wraps (two's complement) and is never an error. A program compiled by
    ///   `compileModel` is proven free of these on every input its manifest admits.
    /// A malformed program reverts (see the errors) before the input is looked at.
    /// @param program The program bytes (format version 1).
    /// @param input The request's input: a canonical tensor list.
    /// @return resultCode ResultCodes.OK, INVALID_INPUT or MODEL_ERROR.
    /// @return output The canonical output tensor list when `resultCode` is OK, empty otherwise.
    function execute(
        bytes calldata program,
        bytes calldata input
    ) external pure returns (uint8 resultCode, bytes memory output);

    /// @notice An upper bound on the gas `execute(program, input)` spends inside the executor, for every input.
    /// @dev Validates the program exactly as `execute` does (reverting with the same errors), then sums, from the
    /// declared shapes alone: fixed and per-tensor costs, each op's cost per element (MatMulInteger: per row, per
    /// element of A, per output element and per 32 multiply-accumulates; broadcast maps by kind; ArgMax per input
    /// element), and the memory expansion of every word the run allocates (3 gas per word plus words^2 / 512).
    /// Every per-element constant is at least what the code measurably spends, so a run on any input, including
    /// one that stops early (INVALID_INPUT, MODEL_ERROR), costs less. Not included: the caller's cost of the call
    /// and of its calldata, which depend on how the caller builds it.
    /// @param program The program bytes (format version 1).
    /// @return gas The bound, in gas.
    /// @return outputBytes The length of the output tensor list of a successful run (the program fixes it).
    function gasBound(bytes calldata program) external pure returns (uint256 gas, uint256 outputBytes);
}
