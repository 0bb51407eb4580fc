// The release version comes from package.json; the revision is stamped in by
// `bun build --define MINITWIT_REVISION=...` and is "dev" when run from source.
import pkg from "../package.json";

declare const MINITWIT_REVISION: string | undefined;

export const VERSION: string = pkg.version;
export const REVISION: string = typeof MINITWIT_REVISION === "string" ? MINITWIT_REVISION : "dev";
