import { REVISION, VERSION } from "../version";
import { defineCommand } from "./command";

export const version = defineCommand({
  name: "version",
  summary: "print the version",
  settings: [],
  usage: "Usage: minitwit version\n\nPrints the release version and the source revision.",
  options: {},
  async run({ out }) {
    out(`minitwit ${VERSION} (${REVISION}) bun ${Bun.version}`);
  },
});
