// Third-party modules the package READMEs import but this repository does not install: the part of
// their types the snippets use. Checked by scripts/check-readme-snippets.mjs (package READMEs are
// otherwise compiled as written: no placeholder names, no implicit imports).
declare module '@nestjs/common' {
  export function Injectable(): ClassDecorator;
}
