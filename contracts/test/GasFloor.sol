// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";

/// @title GasFloor
/// @notice Bench-only (bench/gas.ts): a lower bound on the gas of one Verity lifecycle. It performs the storage
/// accesses, calls, logs and calldata that every design keeping the protocol's guarantees pays, laid out as cheaply
/// as we know how: operator sets, stakes, locks and balances in one contract (no cross-contract call), the request
/// struct packed into 10 words, events carrying packed words. It keeps the cheap checks (commitment, status,
/// deadline, exclusive window, registration, free stake, challenge window, output hash, exact callback gas) and
/// leaves out everything that is not on the happy path (disputes, cancellation, fees to a treasury, parameter
/// bounds, error data). Not a usable oracle: no tokens move and anyone may set it up.
/// @dev The packed request, word by word: 0 requestId; 1 modelId; 2 inputHash; 3 outputHash; 4 traceCommitment;
/// 5 consumer (160) | feeWei (96); 6 assignedOperator (160) | collateralWei (96); 7 operator (160) | bondWei (96);
/// 8 deadline (40) | exclusiveUntil (40) | challengeEndsAt (40) | callbackGasLimit (32) | challengeWindow (32) |
/// mode (8) | status (8) | disputeRounds (8) | resultCode (8); 9 protocolFeeWei (96).
contract GasFloor is ReentrancyGuardTransient {
    struct Packed {
        uint256 requestId;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 traceCommitment;
        uint256 consumerFee;
        uint256 assignedCollateral;
        uint256 operatorBond;
        uint256 times;
        uint256 protocolFee;
    }

    event Requested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed consumer,
        uint256[4] terms,
        bytes input
    );
    event Submitted(uint256 indexed requestId, address indexed operator, uint256 times, bytes output);
    event Finalized(uint256 indexed requestId, bool callbackSucceeded, uint256 callbackGasUsed);

    error Refused(uint8 reason);

    uint256 private constant STATUS_REQUESTED = 1;
    uint256 private constant STATUS_SUBMITTED = 2;

    /// @dev From the low bits: callbackGasFeeWei (64), maxCallbackGasLimit (32), exclusiveWindowSeconds (32),
    /// challengeBondBps (16).
    uint256 private s_params;
    /// @dev From the low bits: feeWei (96), collateralWei (96), challengeWindowSeconds (32), mode (8), active (8).
    mapping(bytes32 modelId => uint256) private s_terms;
    /// @dev From the low bits: balanceWei (120), requestNonce (40), lockedWei (96).
    mapping(address account => uint256) private s_accounts;
    mapping(address operator => uint256) private s_stakes;
    mapping(bytes32 modelId => address[]) private s_operators;
    mapping(bytes32 modelId => mapping(address operator => uint256)) private s_positions;
    mapping(uint256 requestId => bytes32) private s_commitments;

    // Set-up (bench only, unrestricted).

    function setUp(uint256 params, bytes32 modelId, uint256 terms) external {
        s_params = params;
        s_terms[modelId] = terms;
    }

    function stakeAndRegister(bytes32 modelId, uint96 stakeWei) external {
        s_stakes[msg.sender] = stakeWei;
        s_operators[modelId].push(msg.sender);
        s_positions[modelId][msg.sender] = s_operators[modelId].length;
    }

    function deposit(address account, uint120 amountWei) external {
        s_accounts[account] += amountWei;
    }

    // The lifecycle.

    function request(
        bytes32 modelId,
        bytes calldata input,
        uint32 callbackGasLimit,
        uint40 deadline,
        address preferredOperator
    ) external nonReentrant returns (uint256 requestId) {
        uint256 terms = s_terms[modelId];
        uint256 params = s_params;
        if (uint8(terms >> 232) == 0 || callbackGasLimit > uint32(params >> 64) || input.length == 0) revert Refused(0);
        if (deadline <= block.timestamp) revert Refused(1);
        uint256 fee = uint96(terms) + uint256(callbackGasLimit) * uint64(params);
        requestId = uint256(keccak256(abi.encode(msg.sender, _charge(fee))));
        uint256[4] memory packedTerms = _packTerms(requestId, modelId, terms, params, preferredOperator);
        packedTerms[0] = (uint256(uint160(msg.sender)) << 96) | fee;
        packedTerms[3] |= uint256(deadline) | (uint256(callbackGasLimit) << 120);
        bytes32 h = _hashNew(requestId, modelId, keccak256(input), packedTerms);
        s_commitments[requestId] = h;
        emit Requested(requestId, modelId, msg.sender, packedTerms, input);
    }

    /// @dev The hash of a new request's 10 packed words (no result yet: words 3, 4 and 9 zero).
    function _hashNew(
        uint256 requestId,
        bytes32 modelId,
        bytes32 inputHash,
        uint256[4] memory packedTerms
    ) private pure returns (bytes32 h) {
        // Builds the packed request in scratch memory and hashes it.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, requestId)
            mstore(add(ptr, 0x20), modelId)
            mstore(add(ptr, 0x40), inputHash)
            mstore(add(ptr, 0x60), 0)
            mstore(add(ptr, 0x80), 0)
            mstore(add(ptr, 0xa0), mload(packedTerms))
            mstore(add(ptr, 0xc0), mload(add(packedTerms, 0x20)))
            mstore(add(ptr, 0xe0), mload(add(packedTerms, 0x40)))
            mstore(add(ptr, 0x100), mload(add(packedTerms, 0x60)))
            mstore(add(ptr, 0x120), 0)
            h := keccak256(ptr, 320)
        }
    }

    /// @dev Takes `fee` from the caller's balance and returns its request nonce (incremented): one slot.
    function _charge(uint256 fee) private returns (uint256 nonce) {
        uint256 account = s_accounts[msg.sender];
        uint256 balance = uint120(account);
        if (balance < fee) revert Refused(2);
        nonce = uint40(account >> 120);
        s_accounts[msg.sender] = (account & ~uint256(type(uint160).max)) | ((nonce + 1) << 120) | (balance - fee);
    }

    /// @dev Words 6, 7 and 8 of the packed request (word 5 and the caller's part of word 8 are the caller's).
    function _packTerms(
        uint256 requestId,
        bytes32 modelId,
        uint256 terms,
        uint256 params,
        address preferredOperator
    ) private view returns (uint256[4] memory packed) {
        uint256 collateral = uint96(terms >> 96);
        address assigned =
            preferredOperator == address(0) ? _rotationPick(modelId, requestId, collateral) : preferredOperator;
        uint256 exclusiveUntil = assigned == address(0) ? block.timestamp : block.timestamp + uint32(params >> 96);
        packed[1] = (uint256(uint160(assigned)) << 96) | collateral;
        packed[2] = (collateral * uint16(params >> 128)) / 10_000;
        packed[3] =
            (exclusiveUntil << 40) |
            (uint256(uint32(terms >> 192)) << 152) |
            (uint256(uint8(terms >> 224)) << 184) |
            (STATUS_REQUESTED << 192);
    }

    function submit(Packed calldata r, uint8 resultCode, bytes calldata output) external nonReentrant {
        _requireCommitted(r);
        uint256 times = r.times;
        if (uint8(times >> 192) != STATUS_REQUESTED) revert Refused(10);
        if (block.timestamp > uint40(times)) revert Refused(11);
        if (block.timestamp < uint40(times >> 40) && msg.sender != address(uint160(r.assignedCollateral >> 96))) {
            revert Refused(12);
        }
        if (s_positions[r.modelId][msg.sender] == 0) revert Refused(13);
        uint256 collateral = uint96(r.assignedCollateral);
        uint256 account = s_accounts[msg.sender];
        uint256 locked = account >> 160;
        if (s_stakes[msg.sender] < locked + collateral) revert Refused(14);
        s_accounts[msg.sender] = uint160(account) | ((locked + collateral) << 160);

        uint256 challengeEndsAt = block.timestamp + uint32(times >> 152);
        uint256 newTimes =
            (times & ~((uint256(type(uint40).max) << 80) | (uint256(0xff) << 192) | (0xff << 208))) |
                (challengeEndsAt << 80) |
                (STATUS_SUBMITTED << 192) |
                (uint256(resultCode) << 208);
        bytes32 outputHash = keccak256(output);
        bytes32 h;
        address operator = msg.sender;
        // Copies the committed request and patches the words a submission sets.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, r, 320)
            mstore(add(ptr, 0x60), outputHash)
            mstore(add(ptr, 0xe0), or(shl(96, operator), and(mload(add(ptr, 0xe0)), 0xffffffffffffffffffffffff)))
            mstore(add(ptr, 0x100), newTimes)
            h := keccak256(ptr, 320)
        }
        s_commitments[r.requestId] = h;
        emit Submitted(r.requestId, operator, newTimes, output);
    }

    function finalize(Packed calldata r, bytes calldata output) external nonReentrant {
        _requireCommitted(r);
        uint256 times = r.times;
        if (uint8(times >> 192) != STATUS_SUBMITTED) revert Refused(20);
        if (block.timestamp < uint40(times >> 80)) revert Refused(21);
        if (keccak256(output) != r.outputHash) revert Refused(22);
        delete s_commitments[r.requestId];

        address operator = address(uint160(r.operatorBond >> 96));
        uint256 fee = uint96(r.consumerFee) - uint96(r.protocolFee);
        uint256 account = s_accounts[operator];
        uint256 locked = (account >> 160) - uint96(r.assignedCollateral);
        uint256 balance = uint120(account) + fee;
        s_accounts[operator] = (account & (uint256(type(uint40).max) << 120)) | (locked << 160) | balance;

        address consumer = address(uint160(r.consumerFee >> 96));
        uint256 gasLimit = uint32(times >> 120);
        bytes memory payload = abi.encodeCall(
            IInferenceConsumer.onInferenceResult,
            (r.requestId, uint8(times >> 208), output)
        );
        bool success;
        uint256 gasUsed;
        if (consumer.code.length != 0) {
            uint256 available = gasleft() - 5_000;
            if (available - available / 64 <= gasLimit) revert Refused(23);
            // A plain CALL with exactly gasLimit gas, no return data copied.
            assembly ("memory-safe") {
                let before := gas()
                success := call(gasLimit, consumer, 0, add(payload, 0x20), mload(payload), 0, 0)
                gasUsed := sub(before, gas())
            }
        }
        emit Finalized(r.requestId, success, gasUsed);
    }

    /// @dev The rotation's pick if its free stake covers the collateral, else none (no exclusive window).
    function _rotationPick(bytes32 modelId, uint256 seed, uint256 collateral) private view returns (address pick) {
        address[] storage operators = s_operators[modelId];
        uint256 count = operators.length;
        if (count == 0) return address(0);
        pick = operators[seed % count];
        if (s_stakes[pick] < (s_accounts[pick] >> 160) + collateral) return address(0);
    }

    function _requireCommitted(Packed calldata r) private view {
        bytes32 h;
        // Hashes the packed request's calldata in place (copied to scratch memory).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, r, 320)
            h := keccak256(ptr, 320)
        }
        if (s_commitments[r.requestId] != h || h == bytes32(0)) revert Refused(30);
    }
}
