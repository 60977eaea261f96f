// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IProgramStore
/// @notice Content-addressed storage of on-chain programs (see IIntegerExecutor), SSTORE2-style: a program is
/// written as one or more data contracts ("chunks") whose runtime code is a STOP byte followed by the data, then
/// registered under the keccak256 of the chunks' concatenated data: its `programHash`. Permissionless; nobody can
/// change or remove a registered program.
interface IProgramStore {
    /// @notice Emitted when a chunk is written.
    /// @param pointer The data contract holding the chunk.
    /// @param size The chunk's data size in bytes (its code size minus the STOP byte).
    event ProgramChunkWritten(address indexed pointer, uint256 size);
    /// @notice Emitted when a program is registered (once per program hash).
    /// @param programHash keccak256 of the program bytes.
    /// @param chunks The number of chunks.
    /// @param size The program size in bytes.
    event ProgramRegistered(bytes32 indexed programHash, uint256 chunks, uint256 size);

    /// @notice A chunk is larger than a contract's code can hold after the STOP byte (EIP-170).
    /// @param have The chunk's size.
    /// @param max The largest chunk size.
    error ProgramStoreChunkTooLarge(uint256 have, uint256 max);
    /// @notice Deploying the chunk's data contract failed.
    error ProgramStoreChunkDeployFailed();
    /// @notice `register` was given no chunks.
    error ProgramStoreNoChunks();
    /// @notice A pointer given to `register` has no code.
    /// @param pointer The pointer.
    error ProgramStoreEmptyChunk(address pointer);
    /// @notice A pointer given to `register` has code but was not written by this store's `writeChunk`.
    /// @param pointer The pointer.
    error ProgramStoreUnknownChunk(address pointer);
    /// @notice The chunk list is not the canonical split of its program: every chunk but the last must hold
    /// exactly `maxChunkSize()` bytes and the last at least one (so nobody can register a program first as
    /// thousands of tiny chunks and make every dispute that loads it pay for them).
    /// @param index The chunk's position in the list.
    /// @param have Its data size.
    /// @param want The size it must have (for the last chunk: the minimum, 1).
    error ProgramStoreNonCanonicalChunk(uint256 index, uint256 have, uint256 want);
    /// @notice No program is registered under this hash.
    /// @param programHash The hash asked for.
    error ProgramStoreUnknownProgram(bytes32 programHash);

    /// @notice Writes `data` as a new chunk: deploys a contract whose runtime code is 0x00 (STOP) followed by
    /// `data`, so it can never execute.
    /// @param data The chunk's bytes, at most `maxChunkSize()`.
    /// @return pointer The chunk's address.
    function writeChunk(bytes calldata data) external returns (address pointer);

    /// @notice Registers the program made of the chunks' data, concatenated in order. Idempotent: registering
    /// bytes already registered (under any chunking) returns their hash and emits nothing.
    /// @param pointers Chunks written by this store's `writeChunk`, in program order.
    /// @return programHash keccak256 of the program bytes.
    function register(address[] calldata pointers) external returns (bytes32 programHash);

    /// @notice The bytes of a registered program.
    /// @param programHash The program's hash.
    /// @return program The program bytes (their keccak256 is `programHash`).
    function load(bytes32 programHash) external view returns (bytes memory program);

    /// @notice Whether a program is registered under `programHash`.
    /// @param programHash The hash.
    /// @return Whether it is registered.
    function exists(bytes32 programHash) external view returns (bool);

    /// @notice The size of a registered program.
    /// @param programHash The program's hash.
    /// @return The program size in bytes.
    function programSize(bytes32 programHash) external view returns (uint256);

    /// @notice The chunks of a registered program, in order.
    /// @param programHash The program's hash.
    /// @return The chunk addresses.
    function chunksOf(bytes32 programHash) external view returns (address[] memory);

    /// @notice The largest chunk `writeChunk` accepts: 24,575 bytes (the EIP-170 code size limit minus the STOP
    /// byte).
    /// @return The size in bytes.
    function maxChunkSize() external pure returns (uint256);
}
