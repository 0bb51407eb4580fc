// What a username may hold, so that no name can pass for another one. A name
// is compared with the others as the database folds it (fold_username():
// NFKC and full case folding, migration 0005); what folding cannot see is
// refused here: characters a reader cannot see (surrounding or repeated
// spaces, control, format, default-ignorable and unassigned characters, the
// Hangul fillers and the blank braille pattern) and letters of scripts that
// do not belong together (`bօb` with an Armenian `օ`, `аlice` with a
// Cyrillic `а`). Names wholly in one script stay allowed (`Дмитрий`), as do
// inner single spaces (the simulator registers `Roger Histand`).

// Control (Cc), format (Cf: zero-width, bidi controls, the soft hyphen), lone
// surrogates, line and paragraph separators, every space but the plain one,
// unassigned and private-use code points, and every Default_Ignorable_Code_Point
// (the combining grapheme joiner U+034F, the variation selectors U+FE00..U+FE0F
// and U+E0100.., the Khmer inherent vowels U+17B4..U+17B5, the Hangul fillers
// U+115F, U+1160, U+3164, U+FFA0). The blank braille pattern U+2800 is none
// of these but shows as nothing.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Cn}\p{Co}\p{Default_Ignorable_Code_Point}\u2800]|[^\S ]/u;

/**
 * Unicode's scripts by ISO 15924 code, but Common (Zyyy), Inherited (Zinh)
 * and Unknown (Zzzz), as Bun's regular expressions know them
 * (`\p{Script_Extensions=…}`). A code this Bun does not know is skipped.
 */
const SCRIPT_CODES = `Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Bopo Brah Brai Bugi
  Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor
  Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali
  Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand
  Mani Marc Medf Mend Merc Mero Miao Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam
  Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur
  Sgnw Shaw Shrd Sidd Sidt Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt
  Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii
  Zanb`;

/** Characters used with every script: digits, punctuation, combining marks (Common, Inherited). */
const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;

// UTS #39's "highly restrictive" profile: one script, or Latin with the
// scripts written beside it in Japanese, Chinese or Korean.
const ALLOWED_MIXES = [
  ["Latn", "Hani", "Hira", "Kana"],
  ["Latn", "Hani", "Bopo"],
  ["Latn", "Hani", "Hang"],
];

let scriptTests: Map<string, RegExp> | null = null;

/** One `\p{scx=…}` test per script, built at the first use. */
function scripts(): Map<string, RegExp> {
  if (scriptTests !== null) return scriptTests;
  scriptTests = new Map();
  for (const code of SCRIPT_CODES.split(/\s+/)) {
    try {
      scriptTests.set(code, new RegExp(`^\\p{scx=${code}}$`, "u"));
    } catch {
      // A script newer than this Bun's Unicode: no character can be in it.
    }
  }
  return scriptTests;
}

const inScript = (char: string, code: string) => scripts().get(code)?.test(char) ?? false;

/**
 * Whether the name meets UTS #39's highly restrictive profile: all its letters
 * share a script (by Script_Extensions, so a character used by several
 * scripts counts for each), or they come from one of ALLOWED_MIXES.
 */
export function singleScriptOrAllowedMix(name: string): boolean {
  const chars = [...name].filter((char) => !ANY_SCRIPT.test(char));
  const [first] = chars;
  if (first === undefined) return true;
  let shared = [...scripts().keys()].filter((code) => inScript(first, code));
  for (const char of chars) {
    shared = shared.filter((code) => inScript(char, code));
    if (shared.length === 0) break;
  }
  if (shared.length > 0) return true;
  return ALLOWED_MIXES.some((mix) => chars.every((char) => mix.some((code) => inScript(char, code))));
}

/** Why a (non-empty, NFC-normalised) username cannot be registered, or null when it can. */
export function usernameProblem(username: string): string | null {
  if (INVISIBLE.test(username)) return "The username cannot contain control, invisible or direction characters";
  if (username.startsWith(" ") || username.endsWith(" ")) return "The username cannot begin or end with a space";
  if (username.includes("  ")) return "The username cannot contain two spaces in a row";
  // Under NFKC, as names are compared: fullwidth `ｂօｂ` mixes scripts as `bօb` does.
  if (!singleScriptOrAllowedMix(username.normalize("NFKC"))) {
    return "The username cannot mix letters of different scripts";
  }
  return null;
}
