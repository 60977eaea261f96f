import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ZeroHash } from "ethers";
import VerityModule from "./Verity";

/**
 * The Verity deployment (deploy/modules/Verity.ts), then handed over to `owner`, the account that governs it (a
 * multisig or timelock, say), as `verity deploy --owner` does:
 * - the coordinator's ownership is transferred to `owner` (Ownable2Step: `owner` takes over when it calls
 *   acceptOwnership, so a mistyped address takes nothing);
 * - the deployer renounces the staking admin (DEFAULT_ADMIN_ROLE) once the coordinator holds SLASHER_ROLE.
 *   Nobody can grant the staking role after that: only the coordinator slashes stake (and it keeps the
 *   collateral locks itself).
 *
 * `owner` is required and must not be the deployer (the module cannot compare them: a deployer that names itself
 * would leave a pointless pending transfer to itself and the staking roles fixed). Parameters nest per module:
 *   {"Verity": {"stakeToken": "0x…"}, "VerityHandover": {"owner": "0x…"}}
 *   npx hardhat ignition deploy deploy/modules/VerityHandover.ts --network <name> --parameters params.json
 * Deploying this module on top of an existing Verity deployment of the same network reuses it and only hands over.
 */
export default buildModule("VerityHandover", (m) => {
    const deployer = m.getAccount(0);
    const owner = m.getParameter<string>("owner");
    const verity = m.useModule(VerityModule);
    // The deployer needs its powers until the Verity module is done (resolver set, roles granted).
    const transfer = m.call(verity.coordinator, "transferOwnership", [owner], {
        id: "TransferCoordinatorOwnership",
        from: deployer,
    });
    m.call(verity.staking, "renounceRole", [ZeroHash, deployer], {
        id: "RenounceStakingAdmin",
        from: deployer,
        after: [transfer],
    });
    return verity;
});
