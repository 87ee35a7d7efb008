// Asset imports resolved by webpack (asset/resource): the module is the public URL of the file.
declare module '*.svg' {
  const url: string;
  export default url;
}
