import { REVISION, VERSION } from "../version";
import type { Command } from "./command";

export const version: Command = {
  name: "version",
  summary: "print the version",
  usage: "Usage: minitwit version\n\nPrints the release version and the source revision.",
  options: {},
  async run({ out }) {
    out(`minitwit ${VERSION} (${REVISION}) bun ${Bun.version}`);
  },
};
