import fs from 'fs';
import path from 'path';

import { SOURCE_DIR } from './constants';

export function getPackageJson(): { version: string } {
  return JSON.parse(fs.readFileSync(path.resolve(process.cwd(), 'package.json'), 'utf8'));
}

export function getPluginJson(): { id: string } {
  const file = path.resolve(process.cwd(), SOURCE_DIR, 'plugin.json');
  if (!fs.existsSync(file)) {
    throw new Error(`${file} est introuvable : il décrit le plugin (id, backend, logos) et doit exister.`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Replaces the placeholders create-plugin templates use in plugin.json and README.md.
export function fillPlaceholders(content: Buffer): string {
  return content
    .toString()
    .replace(/%VERSION%/g, getPackageJson().version)
    .replace(/%TODAY%/g, new Date().toISOString().substring(0, 10));
}
