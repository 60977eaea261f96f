// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Tensors} from "../libraries/Tensors.sol";

/// @title TensorsHarness
/// @notice Test-only: exposes the internal functions of the `Tensors` library externally. Never deployed.
contract TensorsHarness {
    /// @notice The library's constants, to check them against the TypeScript codec.
    /// @return version Tensors.VERSION.
    /// @return maxTensors Tensors.MAX_TENSORS.
    /// @return maxRank Tensors.MAX_RANK.
    /// @return maxElements Tensors.MAX_ELEMENTS.
    /// @return dtypes The dtype codes: UINT8, INT8, UINT16, INT16, INT32, INT64, BOOL, UINT32.
    function constants()
        external
        pure
        returns (uint8 version, uint256 maxTensors, uint8 maxRank, uint256 maxElements, uint8[8] memory dtypes)
    {
        dtypes = [
            Tensors.DTYPE_UINT8,
            Tensors.DTYPE_INT8,
            Tensors.DTYPE_UINT16,
            Tensors.DTYPE_INT16,
            Tensors.DTYPE_INT32,
            Tensors.DTYPE_INT64,
            Tensors.DTYPE_BOOL,
            Tensors.DTYPE_UINT32
        ];
        return (Tensors.VERSION, Tensors.MAX_TENSORS, Tensors.MAX_RANK, Tensors.MAX_ELEMENTS, dtypes);
    }

    /// @notice Tensors.encode.
    /// @param tensors The tensors.
    /// @return The canonical bytes.
    function encode(Tensors.Tensor[] memory tensors) external pure returns (bytes memory) {
        return Tensors.encode(tensors);
    }

    /// @notice Tensors.hash.
    /// @param tensors The tensors.
    /// @return keccak256 of the canonical bytes.
    function hash(Tensors.Tensor[] memory tensors) external pure returns (bytes32) {
        return Tensors.hash(tensors);
    }

    /// @notice Tensors.decode.
    /// @param encoded The bytes.
    /// @return The tensors.
    function decode(bytes memory encoded) external pure returns (Tensors.Tensor[] memory) {
        return Tensors.decode(encoded);
    }

    /// @notice Tensors.validate.
    /// @param encoded The bytes.
    /// @return The tensor count.
    function validate(bytes memory encoded) external pure returns (uint256) {
        return Tensors.validate(encoded);
    }

    /// @notice Tensors.elementAt.
    /// @param encoded The bytes.
    /// @param tensorIndex Position of the tensor.
    /// @param elementIndex Position of the element.
    /// @return The element.
    function elementAt(bytes memory encoded, uint256 tensorIndex, uint256 elementIndex) external pure returns (int256) {
        return Tensors.elementAt(encoded, tensorIndex, elementIndex);
    }

    /// @notice Tensors.fromInt256 wrapped in a list.
    /// @param dtype The dtype code.
    /// @param shape The dims.
    /// @param data The elements.
    /// @return The tensor.
    function fromInt256(
        uint8 dtype,
        uint32[] memory shape,
        int256[] memory data
    ) external pure returns (Tensors.Tensor memory) {
        return Tensors.fromInt256(dtype, shape, data);
    }

    /// @notice Tensors.scalar.
    /// @param dtype The dtype code.
    /// @param value The element.
    /// @return The tensor.
    function scalar(uint8 dtype, int256 value) external pure returns (Tensors.Tensor memory) {
        return Tensors.scalar(dtype, value);
    }

    /// @notice Tensors.vector.
    /// @param dtype The dtype code.
    /// @param data The elements.
    /// @return The tensor.
    function vector(uint8 dtype, int256[] memory data) external pure returns (Tensors.Tensor memory) {
        return Tensors.vector(dtype, data);
    }

    /// @notice Tensors.int8Vector.
    /// @param values The elements.
    /// @return The tensor.
    function int8Vector(int8[] memory values) external pure returns (Tensors.Tensor memory) {
        return Tensors.int8Vector(values);
    }

    /// @notice Tensors.uint8Vector.
    /// @param values The elements.
    /// @return The tensor.
    function uint8Vector(uint8[] memory values) external pure returns (Tensors.Tensor memory) {
        return Tensors.uint8Vector(values);
    }

    /// @notice Tensors.int32Vector.
    /// @param values The elements.
    /// @return The tensor.
    function int32Vector(int32[] memory values) external pure returns (Tensors.Tensor memory) {
        return Tensors.int32Vector(values);
    }

    /// @notice Tensors.int64Vector.
    /// @param values The elements.
    /// @return The tensor.
    function int64Vector(int64[] memory values) external pure returns (Tensors.Tensor memory) {
        return Tensors.int64Vector(values);
    }

    /// @notice Tensors.boolVector.
    /// @param values The elements.
    /// @return The tensor.
    function boolVector(bool[] memory values) external pure returns (Tensors.Tensor memory) {
        return Tensors.boolVector(values);
    }

    /// @notice Tensors.single.
    /// @param tensor The tensor.
    /// @return The one-tensor list.
    function single(Tensors.Tensor memory tensor) external pure returns (Tensors.Tensor[] memory) {
        return Tensors.single(tensor);
    }

    /// @notice Gas used inside Tensors.validate (excluding the call and ABI decoding).
    /// @param encoded The bytes.
    /// @return count The tensor count.
    /// @return gasUsed The gas used by the library call.
    function measureValidate(bytes memory encoded) external view returns (uint256 count, uint256 gasUsed) {
        uint256 before = gasleft();
        count = Tensors.validate(encoded);
        gasUsed = before - gasleft();
    }

    /// @notice Gas used inside Tensors.elementAt (excluding the call and ABI decoding).
    /// @param encoded The bytes.
    /// @param tensorIndex Position of the tensor.
    /// @param elementIndex Position of the element.
    /// @return value The element.
    /// @return gasUsed The gas used by the library call.
    function measureElementAt(
        bytes memory encoded,
        uint256 tensorIndex,
        uint256 elementIndex
    ) external view returns (int256 value, uint256 gasUsed) {
        uint256 before = gasleft();
        value = Tensors.elementAt(encoded, tensorIndex, elementIndex);
        gasUsed = before - gasleft();
    }

    /// @notice One call for the cross-implementation property test: encodes `tensors`, decodes and validates the
    /// TypeScript codec's bytes for the same list, and reads the requested elements from them.
    /// @param tensors The tensors to encode.
    /// @param tsEncoded The TypeScript codec's encoding of `tensors`.
    /// @param tensorIndices Tensor positions for elementAt.
    /// @param elementIndices Element positions for elementAt (same length as `tensorIndices`).
    /// @return encoded Tensors.encode(tensors).
    /// @return encodedHash Tensors.hash(tensors).
    /// @return decoded Tensors.decode(tsEncoded).
    /// @return count Tensors.validate(tsEncoded).
    /// @return elements Tensors.elementAt(tsEncoded, tensorIndices[k], elementIndices[k]) for each k.
    function roundTrip(
        Tensors.Tensor[] memory tensors,
        bytes memory tsEncoded,
        uint256[] memory tensorIndices,
        uint256[] memory elementIndices
    )
        external
        pure
        returns (
            bytes memory encoded,
            bytes32 encodedHash,
            Tensors.Tensor[] memory decoded,
            uint256 count,
            int256[] memory elements
        )
    {
        encoded = Tensors.encode(tensors);
        encodedHash = keccak256(encoded);
        decoded = Tensors.decode(tsEncoded);
        count = Tensors.validate(tsEncoded);
        elements = new int256[](tensorIndices.length);
        for (uint256 k; k < tensorIndices.length; ++k) {
            elements[k] = Tensors.elementAt(tsEncoded, tensorIndices[k], elementIndices[k]);
        }
    }

    /// @notice One call for the cross-implementation property test on arbitrary bytes: runs decode, validate and
    /// elementAt on `input` and returns, for each, whether it succeeded and its return data or revert data.
    /// @param input The bytes.
    /// @param tensorIndex Position of the tensor for elementAt.
    /// @param elementIndex Position of the element for elementAt.
    /// @return ok Success of decode, validate, elementAt.
    /// @return results Return data (on success) or revert data (on failure) of each.
    function probe(
        bytes memory input,
        uint256 tensorIndex,
        uint256 elementIndex
    ) external view returns (bool[3] memory ok, bytes[3] memory results) {
        (ok[0], results[0]) = address(this).staticcall(abi.encodeCall(this.decode, (input)));
        (ok[1], results[1]) = address(this).staticcall(abi.encodeCall(this.validate, (input)));
        (ok[2], results[2]) = address(this).staticcall(
            abi.encodeCall(this.elementAt, (input, tensorIndex, elementIndex))
        );
    }

    /// @notice Runs encode on `tensors` and returns whether it succeeded and its return or revert data.
    /// @param tensors The tensors.
    /// @return ok Whether encode succeeded.
    /// @return result The return data (the ABI-encoded bytes) or the revert data.
    function tryEncode(Tensors.Tensor[] memory tensors) external view returns (bool ok, bytes memory result) {
        (ok, result) = address(this).staticcall(abi.encodeCall(this.encode, (tensors)));
    }
}
