// A plain HTTP client with a cookie jar, like the scripts and course tests
// that drive MiniTwit's forms without a browser.

export interface WebResponse {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

export function webClient(base: string) {
  const jar = new Map<string, string>();
  const request = async (
    method: string,
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(base + path, {
      method,
      redirect: "manual",
      headers: {
        ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = cookie.split(";");
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim())) || value === "";
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: res.status, location: res.headers.get("location"), body: await res.text(), headers: res.headers };
  };
  /** Follows redirects like a browser, returning the final page. */
  const follow = async (first: WebResponse): Promise<WebResponse> => {
    let res = first;
    for (let hops = 0; res.location !== null && hops < 5; hops++) res = await request("GET", res.location);
    return res;
  };
  return {
    jar,
    get: (path: string, headers?: Record<string, string>) => request("GET", path, undefined, headers),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) =>
      request("POST", path, form, headers),
    follow,
    async register(username: string, password = "secret", email = `${username.replace(/\W/g, "")}@example.com`) {
      return follow(await request("POST", "/register", { username, email, password, password2: password }));
    },
    async login(username: string, password = "secret") {
      return follow(await request("POST", "/login", { username, password }));
    },
  };
}

/** The `<li>` texts of the flash list, or [] when there is none. */
export function flashesOf(page: string): string[] {
  const list = /<ul class="flashes">(.*?)<\/ul>/s.exec(page)?.[1] ?? "";
  return [...list.matchAll(/<li>(.*?)<\/li>/gs)].map((m) => m[1] as string);
}

export function titleOf(page: string): string | undefined {
  return /<title>(.*?)<\/title>/s.exec(page)?.[1];
}

export function errorOf(page: string): string | undefined {
  return /<div class="error"><strong>Error:<\/strong> (.*?)<\/div>/s.exec(page)?.[1];
}
