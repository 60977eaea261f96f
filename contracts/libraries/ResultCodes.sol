// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ResultCodes
/// @notice The `resultCode` carried with every Verity result. Codes below RESERVED_FROM are chosen by the
/// operator (and disputable like any output); codes from RESERVED_FROM up are set by the protocol only.
library ResultCodes {
    /// @notice The output holds the model's output tensors.
    uint8 internal constant OK = 0;
    /// @notice The input bytes are malformed or do not match the model's I/O spec (dtype, shape, length).
    uint8 internal constant INVALID_INPUT = 1;
    /// @notice The model failed on a well-formed input.
    uint8 internal constant MODEL_ERROR = 2;
    /// @notice First code reserved for the protocol; operators cannot submit codes from here up.
    uint8 internal constant RESERVED_FROM = 128;
    /// @notice The submitted result was proven wrong and no correct result was available: fee refunded.
    uint8 internal constant VOIDED = 255;
}
