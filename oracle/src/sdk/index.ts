/**
 * The Verity TypeScript SDK: one entry point for consumers and tools.
 *
 * ```ts
 * import { createVerityClient, DType } from "./oracle/src/sdk";
 * const verity = createVerityClient({ coordinator, runner: wallet });
 * const { requestId } = await verity.requestInference(modelId, [{ dtype: DType.INT8, shape: [1, 4], data }], {
 *     deposit: true,
 * });
 * const result = await verity.waitForResult(requestId, { timeoutMs: 15 * 60_000 });
 * ```
 */
export {
    createVerityClient,
    inputBytes,
    type InferenceInput,
    type RequestOptions,
    type SentRequest,
    type VerityClient,
    type WaitOptions,
} from "./client";
export {
    buildAttestation,
    type Attestation,
    type AttestationVerification,
    type ChainCheck,
    type OperatorStake,
} from "./attestations";
export type { ContextOptions } from "./context";
export { VerificationMode } from "../protocol/verificationMode";
export { VeritySdkError, formatRevert, type SdkErrorCode } from "./errors";
export type { RequestEvent, RequestState, SettledResult, SettledStatus } from "./requests";
export { ATTESTATION_TYPES, decodeRevert, type DecodedRevert } from "../chain/coordinator";
// Challenges are commit-reveal: commit `challengeCommitment(requestId, challenger, salt)` with a secret
// `newChallengeSalt()`, then reveal with `challenge(request, evidence, salt)` from a later block.
export { challengeCommitment, newChallengeSalt } from "../chain/coordinator";
export { RequestStatus, type Request } from "../chain/requestEvents";
export { ResultCode, RESULT_CODE_MEANINGS, describeResultCode } from "../protocol/resultCodes";

// Tensors: the canonical encoding shared with contracts/libraries/Tensors.sol.
export {
    DType,
    TensorCodecError,
    decodeTensors,
    decodeTensorsTyped,
    encodeTensors,
    encodeTensorsTyped,
    hashTensors,
    tensorListHash,
    type Tensor,
    type TypedTensor,
} from "../protocol/tensorCodec";
// Fixed point: the I/O spec's decimal scale (floats <-> integers, round half to even).
export { FixedPointError, fixedToFloat32, float32ToFixed } from "../protocol/fixedPoint";
export { fixedBytesToFloat32, float32ArrayToFixed } from "../protocol/fixedPointArrays";

// TypeChain: the protocol's contract types and factories (sdk/contracts.ts), e.g. `contracts.InferenceCoordinator__factory`.
export * as contracts from "./contracts";
