/**
 * `verity operator stake|unstake|withdraw|register-model|evict|status`: an operator's stake in the Staking contract,
 * from the key in VERITY_PRIVATE_KEY (status reads any address; evict acts on any operator).
 */
import { getAddress, isAddress, isHexString, zeroPadValue, type Provider } from "ethers";
import { getLogsInChunks } from "../chain/logs";
import { ERC20__factory, ModelRegistry__factory, Staking__factory } from "../../../typechain-types";
import {
    chainCall,
    CliError,
    connect,
    EXIT,
    formatAmount,
    loadDeployment,
    output,
    parseAmount,
    requireGas,
    progress,
    sendTx,
    signer,
    type ChainOptions,
} from "./context";

async function setup(opts: ChainOptions) {
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    return { provider, deployment };
}

async function withKey(opts: ChainOptions) {
    const { provider, deployment } = await setup(opts);
    const wallet = signer(provider, opts.connection?.signer);
    await requireGas(wallet);
    const staking = Staking__factory.connect(deployment.address("staking"), wallet);
    return { provider, wallet, deployment, staking, shown: progress(opts.json) };
}

/** Approves (if needed) and stakes; prints the report and returns it. */
export async function operatorStake(amountText: string, opts: ChainOptions) {
    const amount = parseAmount(amountText);
    if (amount === 0n) throw new CliError("the amount to stake must be more than 0");
    const { wallet, deployment, staking, shown } = await withKey(opts);
    const token = ERC20__factory.connect(deployment.address("stakeToken"), wallet);
    const balance = await chainCall(() => token.balanceOf(wallet.address));
    if (balance < amount) {
        throw new CliError(
            `${wallet.address} holds ${formatAmount(balance)} of the stake token ${await token.getAddress()}, less than ${formatAmount(amount)}: get more tokens first`,
            EXIT.REFUSED,
        );
    }
    const stakingAddress = await staking.getAddress();
    if ((await chainCall(() => token.allowance(wallet.address, stakingAddress))) < amount) {
        await sendTx("approving the stake", () => token.approve(stakingAddress, amount), shown);
    }
    const receipt = await sendTx("staking", () => staking.stake(amount), shown);
    const stake = await chainCall(() => staking.getStake(wallet.address));
    const report = {
        operator: wallet.address,
        stakedWei: amount,
        totalStakedWei: stake.stakedWei,
        transactionHash: receipt.hash,
    };
    output(
        opts.json,
        report,
        `staked ${formatAmount(amount)}; ${wallet.address} now has ${formatAmount(stake.stakedWei)} staked`,
    );
    return report;
}

export async function operatorUnstake(amountText: string, opts: ChainOptions): Promise<void> {
    const amount = parseAmount(amountText);
    const { provider, wallet, deployment, staking, shown } = await withKey(opts);
    const receipt = await sendTx("starting to unbond", () => staking.requestUnbonding(amount), shown);
    const stake = await chainCall(() => staking.getStake(wallet.address));
    const readyAt = new Date(Number(stake.unbondingReadyAt) * 1000).toISOString();
    // Models whose collateral the remaining stake no longer covers: anyone may now evict this operator from them.
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), wallet);
    const evictable: string[] = [];
    for (const modelId of (await servedModels(provider, deployment, staking, wallet.address)).models) {
        const terms = await chainCall(() => registry.getModelTerms(modelId), "reading the model");
        if (stake.stakedWei < terms.collateralWei) evictable.push(modelId);
    }
    for (const modelId of evictable) {
        process.stderr.write(
            `warning: ${formatAmount(stake.stakedWei)} staked is below the collateral of model ${modelId}: anyone may evict you from it (\`verity operator evict\`); stake more to keep serving it\n`,
        );
    }
    output(
        opts.json,
        {
            operator: wallet.address,
            unbondingWei: stake.unbondingWei,
            unbondingReadyAt: Number(stake.unbondingReadyAt),
            evictableFrom: evictable,
            transactionHash: receipt.hash,
        },
        `unbonding ${formatAmount(stake.unbondingWei)}; withdraw with \`verity operator withdraw\` after ${readyAt}`,
    );
}

export async function operatorWithdraw(opts: ChainOptions): Promise<void> {
    const { wallet, staking, shown } = await withKey(opts);
    const before = await chainCall(() => staking.getStake(wallet.address));
    const receipt = await sendTx("withdrawing unbonded stake", () => staking.withdrawUnbonded(wallet.address), shown);
    output(
        opts.json,
        { operator: wallet.address, withdrawnWei: before.unbondingWei, transactionHash: receipt.hash },
        `withdrew ${formatAmount(before.unbondingWei)} to ${wallet.address}`,
    );
}

/** Registers the key's account to serve a model, refusing (nothing sent) when its stake is short; returns the report. */
export async function operatorRegisterModel(modelId: string, opts: ChainOptions) {
    if (!isHexString(modelId, 32)) throw new CliError(`invalid model id "${modelId}": want 0x + 64 hex digits`);
    const { wallet, deployment, staking, shown } = await withKey(opts);
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), wallet);
    const terms = await chainCall(() => registry.getModelTerms(modelId), "reading the model");
    const stake = await chainCall(() => staking.getStake(wallet.address));
    if (stake.stakedWei < terms.collateralWei) {
        throw new CliError(
            `insufficient stake: ${wallet.address} has ${formatAmount(stake.stakedWei)} staked, the model's collateral is ${formatAmount(terms.collateralWei)}: run \`verity operator stake ${formatAmountPlain(terms.collateralWei - stake.stakedWei)}\` first`,
            EXIT.REFUSED,
        );
    }
    const receipt = await sendTx("registering for the model", () => staking.registerForModel(modelId), shown);
    const report = { operator: wallet.address, modelId, transactionHash: receipt.hash };
    output(opts.json, report, `${wallet.address} now serves model ${modelId}`);
    return report;
}

/**
 * Removes an operator from a model's set once its active stake is below the model's collateral: anyone may, so
 * that requests are not assigned to operators that cannot back them. Refuses, before sending anything, when the
 * operator is not registered or still covers the collateral (locked collateral counts), with the numbers.
 */
export async function operatorEvict(modelId: string, operatorText: string, opts: ChainOptions): Promise<void> {
    if (!isHexString(modelId, 32)) throw new CliError(`invalid model id "${modelId}": want 0x + 64 hex digits`);
    if (!isAddress(operatorText)) throw new CliError(`invalid operator address "${operatorText}"`);
    const operator = getAddress(operatorText);
    const { wallet, deployment, staking, shown } = await withKey(opts);
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), wallet);
    if (!(await chainCall(() => staking.isRegistered(modelId, operator)))) {
        throw new CliError(`${operator} is not registered for model ${modelId}: nothing to evict`, EXIT.REFUSED);
    }
    const terms = await chainCall(() => registry.getModelTerms(modelId), "reading the model");
    const stake = await chainCall(() => staking.getStake(operator));
    if (stake.stakedWei >= terms.collateralWei) {
        throw new CliError(
            `${operator} cannot be evicted from model ${modelId}: it has ${formatAmount(stake.stakedWei)} staked, at least the model's collateral of ${formatAmount(terms.collateralWei)}`,
            EXIT.REFUSED,
        );
    }
    const receipt = await sendTx("evicting the operator", () => staking.evict(modelId, operator), shown);
    const why = `its stake ${formatAmount(stake.stakedWei)} is below the collateral ${formatAmount(terms.collateralWei)}`;
    output(
        opts.json,
        {
            operator,
            modelId,
            stakedWei: stake.stakedWei,
            collateralWei: terms.collateralWei,
            transactionHash: receipt.hash,
        },
        `evicted ${operator} from model ${modelId}: ${why}`,
    );
}

function formatAmountPlain(wei: bigint): string {
    return formatAmount(wei).replace(/ tokens$/, "");
}

/** Stake, unbonding, balances and served models of `address` (default: the key's account); returns the report. */
export async function operatorStatus(address: string | undefined, opts: ChainOptions) {
    const { provider, deployment } = await setup(opts);
    let operator: string;
    if (address !== undefined) {
        if (!isAddress(address)) throw new CliError(`invalid address "${address}"`);
        operator = getAddress(address);
    } else {
        operator = signer(provider, opts.connection?.signer).address;
    }
    const staking = Staking__factory.connect(deployment.address("staking"), provider);
    const token = ERC20__factory.connect(deployment.address("stakeToken"), provider);
    const [stake, free, tokenBalance, gasBalance] = await chainCall(() =>
        Promise.all([
            staking.getStake(operator),
            staking.freeStake(operator),
            token.balanceOf(operator),
            provider.getBalance(operator),
        ]),
    );
    const { models, unregisteredCount } = await servedModels(provider, deployment, staking, operator);
    const report = {
        operator,
        stakedWei: stake.stakedWei,
        lockedWei: stake.lockedWei,
        freeWei: free,
        unbondingWei: stake.unbondingWei,
        unbondingReadyAt: Number(stake.unbondingReadyAt),
        tokenBalanceWei: tokenBalance,
        gasBalanceWei: gasBalance,
        models,
        unregisteredCount,
    };
    const lines = [
        `operator ${operator}`,
        `  staked     ${formatAmount(stake.stakedWei)} (locked ${formatAmount(stake.lockedWei)}, free ${formatAmount(free)})`,
        `  unbonding  ${formatAmount(stake.unbondingWei)}${stake.unbondingWei > 0n ? ` ready at ${new Date(Number(stake.unbondingReadyAt) * 1000).toISOString()}` : ""}`,
        `  wallet     ${formatAmount(tokenBalance)}, ${gasBalance} wei for gas`,
        `  models     ${models.length === 0 ? "none" : models.join("\n             ")}`,
    ];
    output(opts.json, report, lines.join("\n"));
    return report;
}

/** The models `operator` is registered for now, from its (un)registration and eviction events since deployment. */
async function servedModels(
    provider: Provider,
    deployment: ReturnType<typeof loadDeployment>,
    staking: ReturnType<typeof Staking__factory.connect>,
    operator: string,
): Promise<{ models: string[]; unregisteredCount: number }> {
    const from = deployment.manifest.block;
    // Operator(Un)Registered / OperatorEvicted(operator indexed, modelId indexed): every change of its sets.
    const registeredTopic = staking.interface.getEvent("OperatorRegistered").topicHash;
    const unregisteredTopic = staking.interface.getEvent("OperatorUnregistered").topicHash;
    const evictedTopic = staking.interface.getEvent("OperatorEvicted").topicHash;
    const logs = await chainCall(() =>
        getLogsInChunks(
            provider,
            {
                address: deployment.address("staking"),
                topics: [[registeredTopic, unregisteredTopic, evictedTopic], zeroPadValue(operator, 32)],
            },
            from,
        ),
    );
    const registered = logs.filter((log) => log.topics[0] === registeredTopic);
    // Left a set: by unregistering, or evicted by anyone.
    const unregistered = logs.filter((log) => log.topics[0] === unregisteredTopic || log.topics[0] === evictedTopic);
    const candidates = [...new Set(registered.map((log) => log.topics[2] as string))];
    const models: string[] = [];
    for (const modelId of candidates) {
        if (await chainCall(() => staking.isRegistered(modelId, operator))) models.push(modelId);
    }
    return { models, unregisteredCount: unregistered.length };
}
