/**
 * The SDK's transactions through a real JSON-RPC endpoint: the in-process chain served over HTTP by Hardhat's own
 * JSON-RPC server (the one `npx hardhat node` runs), and clients built the way users build them, a plain ethers
 * Wallet on a plain JsonRpcProvider. That provider answers an identical read made within 250 ms from a cache, so
 * a Wallet sending transactions back to back read a stale "pending" count: `requestInference(..., { deposit: true })`
 * signed the deposit with the approve's nonce and failed with NONCE_EXPIRED ("nonce has already been used") until
 * oracle/src/sdk/transactions.ts numbered them. The in-process signers of the other SDK specs never saw it: Hardhat's
 * own provider does not cache.
 */
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { JsonRpcProvider, NonceManager, type JsonRpcApiProviderOptions, type Signer } from "ethers";
import { createVerityClient, type VerityClient } from "../../../oracle/src/sdk";
import { hardhatWallet, startRpcServer } from "../../../scripts/localChain";
import { deployWithModel, INPUT, TOKEN, type Deployment } from "../../helpers/verity";

/** Rounds of approve + deposit + request each test sends: every one of them failed before the fix. */
const ROUNDS = 3;

describe("sdk: transactions through a JSON-RPC endpoint", function () {
    let server: Awaited<ReturnType<typeof startRpcServer>>;
    const providers: JsonRpcProvider[] = [];

    before(async function () {
        server = await startRpcServer();
    });
    afterEach(function () {
        for (const p of providers.splice(0)) p.destroy();
    });
    after(async function () {
        await server.close();
    });

    /** A provider to the served chain with ethers' defaults (its 250 ms cache included) unless `options` says. */
    function provider(options: JsonRpcApiProviderOptions = {}): JsonRpcProvider {
        const p = new JsonRpcProvider(server.url, undefined, { staticNetwork: true, ...options });
        providers.push(p);
        return p;
    }

    /** A client for `signer`, whose account gets `tokens` stake tokens first. */
    async function clientFor(d: Deployment, signer: Signer, tokens = TOKEN): Promise<VerityClient> {
        await d.token.mint(await signer.getAddress(), tokens);
        return createVerityClient({
            coordinator: await d.coordinator.getAddress(),
            runner: signer,
            pollIntervalMs: 10,
        });
    }

    /** Requests ROUNDS times with `deposit: true` (approve, deposit, request each) and checks each request landed. */
    async function requestRounds(d: Deployment, client: VerityClient, account: string): Promise<void> {
        const start = await ethers.provider.getTransactionCount(account);
        for (let round = 1; round <= ROUNDS; round++) {
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true });
            expect(sent.request.consumer, `round ${round}`).to.equal(account);
            expect(await d.coordinator.isCommitted(sent.request), `round ${round}`).to.equal(true);
            expect(await d.coordinator.balanceOf(account), `round ${round}`).to.equal(0n);
        }
        expect(await ethers.provider.getTransactionCount(account)).to.equal(start + 3 * ROUNDS);
    }

    it("sends approve, deposit and request back to back from a plain Wallet, round after round", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(10).connect(provider());
        await requestRounds(d, await clientFor(d, wallet), wallet.address);
    });

    it("does so too while blocks are mined on an interval (evm_setIntervalMining, automine off)", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(11).connect(provider({ pollingInterval: 20 }));
        const client = await clientFor(d, wallet);
        await hre.network.provider.send("evm_setAutomine", [false]);
        await hre.network.provider.send("evm_setIntervalMining", [50]);
        try {
            await requestRounds(d, client, wallet.address);
        } finally {
            await hre.network.provider.send("evm_setIntervalMining", [0]);
            await hre.network.provider.send("evm_setAutomine", [true]);
        }
    });

    it("leaves the numbering to a NonceManager the user passes", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(12).connect(provider());
        const manager = new NonceManager(wallet);
        await requestRounds(d, await clientFor(d, manager), wallet.address);
        // The manager counted every transaction itself: its next nonce is the chain's.
        expect(await manager.getNonce("pending")).to.equal(await ethers.provider.getTransactionCount(wallet.address));
    });

    it("sends through a signer whose node numbers the transactions (eth_sendTransaction, like a browser wallet)", async function () {
        const d = await loadFixture(deployWithModel);
        const account = (await ethers.getSigners())[13] as Signer;
        const remote = await provider().getSigner(await account.getAddress());
        await requestRounds(d, await clientFor(d, remote), await account.getAddress());
    });

    it("numbers concurrent requests of one client one after another", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(14).connect(provider());
        const client = await clientFor(d, wallet);
        const fee = await client.quoteFee(d.modelId);
        await client.deposit(3n * fee);
        const sent = await Promise.all([1, 2, 3].map(() => client.requestInference(d.modelId, INPUT)));
        expect(new Set(sent.map((s) => s.requestId)).size).to.equal(3);
        expect(await d.coordinator.balanceOf(wallet.address)).to.equal(0n);
    });

    it("deposits for concurrent requests one after another, so no approve overwrites the allowance of another", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(15).connect(provider());
        const client = await clientFor(d, wallet);
        const sent = await Promise.all(
            [1, 2, 3].map(() => client.requestInference(d.modelId, INPUT, { deposit: true })),
        );
        expect(new Set(sent.map((s) => s.requestId)).size).to.equal(3);
        for (const s of sent) expect(await d.coordinator.isCommitted(s.request)).to.equal(true);
    });

    it("lets the signer number again once the chain has rolled its last transaction back (evm_revert)", async function () {
        const d = await loadFixture(deployWithModel);
        const wallet = hardhatWallet(15).connect(provider());
        const client = await clientFor(d, wallet);
        const before = await ethers.provider.getTransactionCount(wallet.address);
        const snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
        await client.deposit(TOKEN / 10n);
        await hre.network.provider.send("evm_revert", [snapshot]);
        // The nonce the reverted deposit had is free again: the next deposit takes it.
        await client.deposit(TOKEN / 10n);
        expect(await ethers.provider.getTransactionCount(wallet.address)).to.equal(before + 2);
        expect(await d.coordinator.balanceOf(wallet.address)).to.equal(TOKEN / 10n);
    });
});
