/**
 * JSON tensors (protocol/tensorJson.ts), the one parser behind `verity request --tensors` / `--input x.json` and
 * examples/offchain-consumer.ts: dtype names as the command documents them, in any case, and nothing else.
 */
import { expect } from "chai";
import { DType, DTYPES, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import {
    dtypeFromName,
    dtypeName,
    DTYPE_NAMES,
    TensorJsonError,
    tensorsFromJson,
    tensorsJsonBytes,
} from "../../../oracle/src/protocol/tensorJson";
import { parseTensorsJson } from "../../../oracle/src/commands/request";
import { CliError } from "../../../oracle/src/commands/context";

describe("oracle/protocol/tensorJson", function () {
    it("names every dtype of the codec, lower case, and reads each name back in any case", function () {
        expect(DTYPE_NAMES).to.deep.equal(["uint8", "int8", "uint16", "int16", "int32", "int64", "bool", "uint32"]);
        expect(DTYPE_NAMES).to.have.length(DTYPES.size);
        for (const [code] of DTYPES) {
            const dtype = code as DType;
            expect(dtypeFromName(dtypeName(dtype))).to.equal(dtype);
            expect(dtypeFromName(dtypeName(dtype).toUpperCase())).to.equal(dtype);
        }
    });

    it("parses the README's example into the tensors the SDK takes", function () {
        const text = '[{"dtype":"int8","shape":[1,4],"data":[12,-7,100,"-128"]}]';
        const tensors = tensorsFromJson(text, "--tensors");
        expect(tensors).to.deep.equal([{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }]);
        expect(tensorsJsonBytes(text, "--tensors")).to.deep.equal(encodeTensors(tensors));
    });

    it("refuses a numeric dtype code (the wire's, not the JSON form's), naming the names it takes", function () {
        for (const dtype of [3, "3", "INT", "constructor", null]) {
            const text = JSON.stringify([{ dtype, shape: [1], data: [1] }]);
            expect(() => tensorsFromJson(text, "VERITY_X")).to.throw(
                TensorJsonError,
                `VERITY_X: tensor 0 has dtype ${JSON.stringify(dtype)}; want one of uint8, int8, uint16, int16, int32, int64, bool, uint32`,
            );
        }
        expect(() => tensorsFromJson("[null]", "x")).to.throw(TensorJsonError, /tensor 0 has dtype undefined/);
    });

    it("reports an encoding error under the same name; the command turns each into its one-line error", function () {
        const text = JSON.stringify([{ dtype: "int8", shape: [1, 2], data: [1, 200] }]);
        expect(() => tensorsJsonBytes(text, "in.json"))
            .to.throw(TensorJsonError, /^in\.json: VALUE_OUT_OF_RANGE: /)
            .with.property("cause");
        expect(() => parseTensorsJson(text, "in.json")).to.throw(CliError, /^in\.json: VALUE_OUT_OF_RANGE: /);
        expect(() => parseTensorsJson("{", "--tensors")).to.throw(CliError, /^--tensors is not JSON \(/);
    });
});
