// tsc emits only JavaScript; the Lua scripts and the admin UI's static files are read at run time
// from beside the compiled modules, so copy them into dist/ with the same layout.
import { cpSync, existsSync } from 'node:fs';

const assetDirs = ['contracts/lua', 'control-plane/src/admin-ui/static'];
for (const dir of assetDirs) {
  if (existsSync(dir)) {
    cpSync(dir, `dist/${dir}`, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  }
}
