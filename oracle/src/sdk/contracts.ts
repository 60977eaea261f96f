/**
 * The TypeChain types and factories an application needs: the protocol's contracts and interfaces, the REEXECUTION
 * mode's, the consumer base contract and the examples, and the ERC-20 interfaces of the stake token. Not the
 * test-only contracts (contracts/test/) or the libraries' internals, which the generated index also holds.
 */
export {
    IERC20__factory,
    IERC20Metadata__factory,
    IDisputeResolver__factory,
    IInferenceConsumer__factory,
    IInferenceCoordinator__factory,
    IIntegerExecutor__factory,
    IModelRegistry__factory,
    IProgramStore__factory,
    IReexecutionResolver__factory,
    IStaking__factory,
    InferenceCoordinator__factory,
    IntegerExecutor__factory,
    ModelRegistry__factory,
    ProgramStore__factory,
    QuickstartConsumer__factory,
    ReexecutionResolver__factory,
    RiskLimitVault__factory,
    Staking__factory,
    VerityConsumer__factory,
} from "../../../typechain-types";
export type {
    IERC20,
    IERC20Metadata,
    IDisputeResolver,
    IInferenceConsumer,
    IInferenceCoordinator,
    IIntegerExecutor,
    IModelRegistry,
    IProgramStore,
    IReexecutionResolver,
    IStaking,
    InferenceCoordinator,
    IntegerExecutor,
    ModelRegistry,
    ProgramStore,
    QuickstartConsumer,
    ReexecutionResolver,
    RiskLimitVault,
    Staking,
    VerityConsumer,
} from "../../../typechain-types";
