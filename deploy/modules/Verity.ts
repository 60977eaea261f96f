import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";
import { VerificationMode } from "../../oracle/src/protocol/verificationMode";

/**
 * Deploys the Verity protocol around an existing ERC-20 stake token: ProgramStore, ModelRegistry, Staking,
 * InferenceCoordinator, and the REEXECUTION dispute path (IntegerExecutor + ReexecutionResolver, set as the
 * coordinator's REEXECUTION resolver), and grants the coordinator the staking role it needs (SLASHER_ROLE; the
 * coordinator keeps locked collateral itself). Resolvers of the other modes are set afterwards (InferenceCoordinator.setResolver, once per mode).
 *
 * The deploying account owns the coordinator and administers the staking role: setting the resolver and granting
 * the role here need it, so there is no `owner` parameter in this module. Deploy deploy/modules/VerityHandover.ts
 * instead to hand the result over (the coordinator to an owner, the staking admin renounced), as anything but a
 * local chain should.
 *
 * Every value is an Ignition parameter with a default, the same as `verity deploy`'s (DEFAULT_PARAMETERS in
 * oracle/src/commands/deploy.ts; test/deploy/Verity.module.spec.ts pins them together); pass a parameters file to
 * override, e.g.
 *   npx hardhat ignition deploy deploy/modules/Verity.ts --parameters params.json
 * Ignition records each deployment per chain id under ignition/deployments/ and resumes or skips what is done.
 */
export default buildModule("Verity", (m) => {
    const deployer = m.getAccount(0);
    const stakeToken = m.getParameter<string>("stakeToken");
    const treasury = m.getParameter("treasury", deployer);

    const programStore = m.contract("ProgramStore");
    const registry = m.contract("ModelRegistry", [
        m.getParameter("minChallengeWindowSeconds", 60),
        m.getParameter("maxChallengeWindowSeconds", 86_400),
        m.getParameter("minCollateralWei", 10n ** 17n),
        programStore,
    ]);
    const staking = m.contract("Staking", [
        stakeToken,
        registry,
        m.getParameter("unbondingDelaySeconds", 7 * 86_400),
        deployer,
    ]);
    const disputeLogic = m.library("DisputeLogic");
    const coordinator = m.contract(
        "InferenceCoordinator",
        [
            registry,
            staking,
            m.getParameter("disputeTimeoutSeconds", 2 * 86_400),
            deployer,
            treasury,
            {
                exclusiveWindowSeconds: m.getParameter("exclusiveWindowSeconds", 30),
                minDeadlineSeconds: m.getParameter("minDeadlineSeconds", 120),
                maxDeadlineSeconds: m.getParameter("maxDeadlineSeconds", 7 * 86_400),
                maxCallbackGasLimit: m.getParameter("maxCallbackGasLimit", 2_500_000),
                maxInputBytes: m.getParameter("maxInputBytes", 65_536),
                callbackGasFeeWei: m.getParameter("callbackGasFeeWei", 1_000_000_000n),
                protocolFeeBps: m.getParameter("protocolFeeBps", 0),
                challengerRewardBps: m.getParameter("challengerRewardBps", 5_000),
                failedChallengeOperatorBps: m.getParameter("failedChallengeOperatorBps", 9_000),
                challengeBondBps: m.getParameter("challengeBondBps", 1_000),
                minChallengeBondWei: m.getParameter("minChallengeBondWei", 10n ** 18n),
            },
        ],
        { libraries: { DisputeLogic: disputeLogic } },
    );
    m.call(registry, "bindCoordinator", [coordinator], { id: "BindRegistry" });
    m.call(staking, "grantRole", [id("SLASHER_ROLE"), coordinator], { id: "GrantSlasherRole" });
    const executor = m.contract("IntegerExecutor");
    const reexecutionResolver = m.contract("ReexecutionResolver", [
        coordinator,
        registry,
        programStore,
        executor,
        m.getParameter("maxDisputeGas", 16_777_216),
        m.getParameter("disputeGasPriceWei", 1_000_000_000n),
    ]);
    m.call(coordinator, "setResolver", [VerificationMode.REEXECUTION, reexecutionResolver], {
        id: "SetReexecutionResolver",
        from: deployer,
    });
    return { programStore, registry, staking, disputeLogic, coordinator, executor, reexecutionResolver };
});
