// Files imported `with { type: "text" }` or `{ type: "file" }`: embedded into
// the compiled binary, read at run time.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "*.gz" {
  const path: string;
  export default path;
}
declare module "*.css" {
  const text: string;
  export default text;
}
