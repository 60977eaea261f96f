// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProgramStore} from "../interfaces/IProgramStore.sol";

/// @title ProgramStore
/// @notice Content-addressed, SSTORE2-style storage of on-chain programs: chunks of at most 24,575 bytes live in
/// the code of data contracts (a STOP byte followed by the data), and a program is the concatenation of its
/// chunks' data, registered under its keccak256. Reading a program costs EXTCODECOPY (3 gas per word plus the
/// memory it fills, plus 2,600 per cold chunk) instead of 2,100 gas per 32-byte storage word.
///
/// SECURITY CONSIDERATIONS
/// - Permissionless: anyone can write chunks and register programs. Nothing is owned, nothing can be changed or
///   removed, and there is no admin.
/// - Content addressing: a program is identified only by the keccak256 of its bytes, computed by `register` from
///   the chunks' code. Whoever registers a program cannot make `load` return other bytes: `register` accepts only
///   chunks written by this store's `writeChunk`, whose runtime code starts with STOP, so they can never run,
///   let alone SELFDESTRUCT (and EIP-6780 would keep their code anyway): their code is immutable. Foreign
///   contracts are refused (`ProgramStoreUnknownChunk`), because code that can be destroyed in its creation
///   transaction and redeployed (CREATE2 metamorphism) could change behind a registered hash.
/// - Idempotent: the first registration of some bytes wins; registering the same bytes again (under any
///   chunking) returns the same hash and emits nothing. A registration cannot overwrite or shadow another.
/// - Trusted: nothing beyond the EVM. Consumers compare `programHash` with the one the model registry binds to
///   the model; the store proves only that `load(h)` hashes to `h`.
/// - Gas trade-offs: `register` hashes the whole program in memory (memory cost grows quadratically with the
///   program size: about 3.9M gas at 1.4 MB), paid once per program. `load` returns the bytes straight from the
///   memory it copied them to, without the compiler's second copy for ABI encoding; still, a caller that
///   receives them and passes them on to the executor holds two more copies in its own memory, whose quadratic
///   cost dominates for large programs (28M gas at 1.2 MB). Such a caller can instead read `chunksOf` and copy
///   each chunk's code (after its STOP byte) with EXTCODECOPY straight into its call buffer: 3.2M gas at 1.2 MB
///   (bench/results/verify.md).
contract ProgramStore is IProgramStore {
    /// @dev The EIP-170 code size limit minus the STOP byte.
    uint256 private constant _MAX_CHUNK_SIZE = 24_575;

    /// @dev A registered program: its size in bytes and its chunks in order.
    struct Program {
        uint256 size;
        address[] chunks;
    }

    /// @dev Registered programs by hash (chunks.length is 0 for an unknown hash).
    mapping(bytes32 programHash => Program program) private _programs;
    /// @dev Chunks written by `writeChunk`.
    mapping(address pointer => bool written) private _written;

    /// @inheritdoc IProgramStore
    function writeChunk(bytes calldata data) external returns (address pointer) {
        uint256 size = data.length;
        if (size > _MAX_CHUNK_SIZE) revert ProgramStoreChunkTooLarge(size, _MAX_CHUNK_SIZE);
        // Init code (10 bytes): PUSH2 (size + 1), DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE,
        // RETURN: returns the code from byte 10 on, which is the STOP byte followed by `data`.
        // Safe: builds the init code in scratch memory at the free memory pointer (not kept, so the pointer is
        // not moved); size + 1 <= 24,576 fits the PUSH2.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(168, or(or(shl(80, 0x61), shl(64, add(size, 1))), 0x80600a3d393df300)))
            calldatacopy(add(ptr, 11), data.offset, size)
            pointer := create(0, ptr, add(size, 11))
        }
        if (pointer == address(0)) revert ProgramStoreChunkDeployFailed();
        _written[pointer] = true;
        emit ProgramChunkWritten(pointer, size);
    }

    /// @inheritdoc IProgramStore
    function register(address[] calldata pointers) external returns (bytes32 programHash) {
        uint256 count = pointers.length;
        if (count == 0) revert ProgramStoreNoChunks();
        uint256 size;
        for (uint256 i; i < count; ++i) {
            address pointer = pointers[i];
            uint256 codeSize = pointer.code.length;
            if (codeSize == 0) revert ProgramStoreEmptyChunk(pointer);
            if (!_written[pointer]) revert ProgramStoreUnknownChunk(pointer);
            uint256 dataSize = codeSize - 1;
            if (i + 1 < count) {
                if (dataSize != _MAX_CHUNK_SIZE) revert ProgramStoreNonCanonicalChunk(i, dataSize, _MAX_CHUNK_SIZE);
            } else if (dataSize == 0) {
                revert ProgramStoreNonCanonicalChunk(i, 0, 1);
            }
            size += dataSize;
        }
        // Safe: concatenates the chunks' data (each chunk's code after its STOP byte) into scratch memory at the
        // free memory pointer and hashes it; nothing there is used afterwards, so the pointer is not moved.
        assembly ("memory-safe") {
            let start := mload(0x40)
            let dst := start
            for {
                let p := pointers.offset
                let end := add(pointers.offset, shl(5, count))
            } lt(p, end) {
                p := add(p, 0x20)
            } {
                let pointer := calldataload(p)
                let length := sub(extcodesize(pointer), 1)
                extcodecopy(pointer, dst, 1, length)
                dst := add(dst, length)
            }
            programHash := keccak256(start, size)
        }
        Program storage program = _programs[programHash];
        if (program.chunks.length != 0) return programHash;
        program.size = size;
        program.chunks = pointers;
        emit ProgramRegistered(programHash, count, size);
    }

    /// @inheritdoc IProgramStore
    function load(bytes32 programHash) external view returns (bytes memory) {
        Program storage program = _programs[programHash];
        address[] memory chunks = program.chunks;
        if (chunks.length == 0) revert ProgramStoreUnknownProgram(programHash);
        uint256 size = program.size;
        // Writes the ABI encoding of one `bytes` (offset 0x20, length, data zero-padded to whole words) at the
        // free memory pointer, copying each chunk's data in place, and returns it: one copy of the program
        // instead of two (the compiler's encoder would copy a `bytes memory` again).
        // Safe: writes only past the free memory pointer and ends the call with `return`.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let padded := and(add(size, 31), not(31))
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), size)
            if padded {
                mstore(add(ptr, add(0x20, padded)), 0)
            }
            let dst := add(ptr, 0x40)
            for {
                let p := add(chunks, 0x20)
                let end := add(p, shl(5, mload(chunks)))
            } lt(p, end) {
                p := add(p, 0x20)
            } {
                let pointer := mload(p)
                let length := sub(extcodesize(pointer), 1)
                extcodecopy(pointer, dst, 1, length)
                dst := add(dst, length)
            }
            return(ptr, add(0x40, padded))
        }
    }

    /// @inheritdoc IProgramStore
    function exists(bytes32 programHash) external view returns (bool) {
        return _programs[programHash].chunks.length != 0;
    }

    /// @inheritdoc IProgramStore
    function programSize(bytes32 programHash) external view returns (uint256) {
        Program storage program = _programs[programHash];
        if (program.chunks.length == 0) revert ProgramStoreUnknownProgram(programHash);
        return program.size;
    }

    /// @inheritdoc IProgramStore
    function chunksOf(bytes32 programHash) external view returns (address[] memory) {
        Program storage program = _programs[programHash];
        if (program.chunks.length == 0) revert ProgramStoreUnknownProgram(programHash);
        return program.chunks;
    }

    /// @inheritdoc IProgramStore
    function maxChunkSize() external pure returns (uint256) {
        return _MAX_CHUNK_SIZE;
    }
}
