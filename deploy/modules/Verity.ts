import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";
import { DEPLOYMENT_DEFAULTS, type DeploymentParameter } from "../../oracle/src/protocol/deploymentDefaults";
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
 * Every value is an Ignition parameter with a default, taken, as `verity deploy`'s are, from
 * oracle/src/protocol/deploymentDefaults.ts (test/deploy/Verity.module.spec.ts pins the two together); pass a
 * parameters file to override, e.g.
 *   npx hardhat ignition deploy deploy/modules/Verity.ts --parameters params.json
 * Ignition records each deployment per chain id under ignition/deployments/ and resumes or skips what is done.
 */
export default buildModule("Verity", (m) => {
    const deployer = m.getAccount(0);
    const stakeToken = m.getParameter<string>("stakeToken");
    const treasury = m.getParameter("treasury", deployer);
    /** A deployment parameter, with the shared default. */
    const param = <K extends DeploymentParameter>(name: K) => m.getParameter(name, DEPLOYMENT_DEFAULTS[name]);

    const programStore = m.contract("ProgramStore");
    const registry = m.contract("ModelRegistry", [
        param("minChallengeWindowSeconds"),
        param("maxChallengeWindowSeconds"),
        param("minCollateralWei"),
        programStore,
    ]);
    const staking = m.contract("Staking", [stakeToken, registry, param("unbondingDelaySeconds"), deployer]);
    const disputeLogic = m.library("DisputeLogic");
    const coordinator = m.contract(
        "InferenceCoordinator",
        [
            registry,
            staking,
            param("disputeTimeoutSeconds"),
            deployer,
            treasury,
            {
                exclusiveWindowSeconds: param("exclusiveWindowSeconds"),
                minDeadlineSeconds: param("minDeadlineSeconds"),
                maxDeadlineSeconds: param("maxDeadlineSeconds"),
                maxCallbackGasLimit: param("maxCallbackGasLimit"),
                maxInputBytes: param("maxInputBytes"),
                callbackGasFeeWei: param("callbackGasFeeWei"),
                protocolFeeBps: param("protocolFeeBps"),
                challengerRewardBps: param("challengerRewardBps"),
                failedChallengeOperatorBps: param("failedChallengeOperatorBps"),
                challengeBondBps: param("challengeBondBps"),
                minChallengeBondWei: param("minChallengeBondWei"),
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
        param("maxDisputeGas"),
        param("disputeGasPriceWei"),
    ]);
    m.call(coordinator, "setResolver", [VerificationMode.REEXECUTION, reexecutionResolver], {
        id: "SetReexecutionResolver",
        from: deployer,
    });
    return { programStore, registry, staking, disputeLogic, coordinator, executor, reexecutionResolver };
});
