// The synthetic data set `minitwit seed` loads: users, a follow graph and
// messages, generated deterministically from a seed so a benchmark can be
// reproduced row for row. The shapes follow what social networks show:
// activity is heavy-tailed (a few authors write a large share of the
// messages, and are the ones most followed), and so is following (most
// users follow a few dozen accounts, about one in a hundred follows 500+).

/** A small deterministic PRNG (mulberry32): same seed, same data set. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Names are built from syllables, so they read like names (with a space, as
// the simulator's do) without borrowing anyone's.
const ONSETS = [
  "b",
  "d",
  "f",
  "g",
  "h",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "z",
  "br",
  "dr",
  "kl",
  "st",
  "tr",
];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"];
const CODAS = ["", "", "n", "r", "s", "l", "th", "m", "x", "nd"];

const WORDS = (
  "the a of to and in is it you that he was for on are with as his they be at one have this from or had by " +
  "word but what some we can out other were all there when up use your how said an each she which do their " +
  "time if will way about many then them write would like so these her long make thing see him two has look " +
  "more day could go come did number sound no most people my over know water than call first who may down " +
  "side been now find any new work part take get place made live where after back little only round man year " +
  "came show every good me give our under name very through just form sentence great think say help low line " +
  "differ turn cause much mean before move right boy old too same tell does set three want air well also play"
).split(" ");

// Messages are Unicode, up to 140 characters, and sometimes hold what the
// pages must escape.
const FLOURISHES = ["!", "?", " :)", ' "quoted"', " <b>", " & more", " it's", " café", " 🙂", " 日本"];

export function generateUsernames(count: number, random: () => number): string[] {
  const syllable = () =>
    (ONSETS[Math.floor(random() * ONSETS.length)] as string) +
    (VOWELS[Math.floor(random() * VOWELS.length)] as string) +
    (CODAS[Math.floor(random() * CODAS.length)] as string);
  const part = () => {
    const text = syllable() + (random() < 0.6 ? syllable() : "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  const seen = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    let name = `${part()} ${part()}`;
    if (seen.has(name)) name = `${name} ${names.length}`;
    seen.add(name);
    names.push(name);
  }
  return names;
}

export function emailOf(username: string, index: number): string {
  const domains = ["example.com", "example.org", "example.net"];
  return `${username.toLowerCase().replaceAll(" ", ".")}@${domains[index % domains.length]}`;
}

/**
 * Picks user indexes with a Zipf-like popularity (weight 1/rank^0.8): with
 * 10,000 users the busiest author writes about 4% of all messages. Ranks are
 * shuffled over the users so popularity does not follow registration order.
 */
export class Popularity {
  private readonly cumulative: Float64Array;
  private readonly userAtRank: Int32Array;

  constructor(
    users: number,
    private readonly random: () => number,
  ) {
    this.cumulative = new Float64Array(users);
    let total = 0;
    for (let rank = 0; rank < users; rank++) {
      total += 1 / (rank + 1) ** 0.8;
      this.cumulative[rank] = total;
    }
    for (let rank = 0; rank < users; rank++) this.cumulative[rank] = (this.cumulative[rank] as number) / total;
    this.userAtRank = Int32Array.from({ length: users }, (_, i) => i);
    for (let i = users - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.userAtRank[i], this.userAtRank[j]] = [this.userAtRank[j] as number, this.userAtRank[i] as number];
    }
  }

  /** A user index, popular users more often. */
  pick(): number {
    const x = this.random();
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.cumulative[mid] as number) < x) low = mid + 1;
      else high = mid;
    }
    return this.userAtRank[low] as number;
  }
}

/**
 * How many accounts each user follows: none for one in ten, else a Pareto
 * tail (at least 5; P(at least k) = 5/k) capped at 2,000 and at the number of
 * other users. The busiest follower follows at least 600 (or 60% of the others
 * in a small data set), so "my timeline" of a heavy follower can always be measured.
 */
export function followCounts(users: number, random: () => number): Int32Array {
  const cap = Math.min(2_000, users - 1);
  const counts = new Int32Array(users);
  let heaviest = 0;
  for (let i = 0; i < users; i++) {
    counts[i] = random() < 0.1 ? 0 : Math.min(cap, Math.floor(5 / (1 - random())));
    if ((counts[i] as number) > (counts[heaviest] as number)) heaviest = i;
  }
  if (users > 1) counts[heaviest] = Math.max(counts[heaviest] as number, Math.min(600, Math.floor((users - 1) * 0.6)));
  return counts;
}

/**
 * The accounts one user follows, ascending: mostly popular authors, partly
 * anyone (so the long tail has followers too), never the user themself.
 */
export function followeesOf(
  user: number,
  count: number,
  users: number,
  popularity: Popularity,
  random: () => number,
): number[] {
  const chosen = new Set<number>();
  // Drawing popular users repeats a lot once the head is taken; uniform
  // draws always make progress, so the loop ends even at the cap.
  for (let tries = 0; chosen.size < count; tries++) {
    const whom = tries < count * 4 && random() < 0.7 ? popularity.pick() : Math.floor(random() * users);
    if (whom !== user) chosen.add(whom);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** One message text: 3 to 25 words, at most 140 characters. */
export function messageText(random: () => number): string {
  const words = 3 + Math.floor(random() * 23);
  let text = "";
  for (let i = 0; i < words; i++) {
    text += (i === 0 ? "" : " ") + (WORDS[Math.floor(random() * WORDS.length)] as string);
  }
  text = text.charAt(0).toUpperCase() + text.slice(1);
  if (random() < 0.15) text += FLOURISHES[Math.floor(random() * FLOURISHES.length)] as string;
  return [...text].slice(0, 140).join("");
}

/** A value for PostgreSQL's COPY text format: backslash, tab and line breaks escaped. */
export function copyField(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n").replaceAll("\r", "\\r")
    : value;
}
