export const SOURCE_DIR = 'src';
export const DIST_DIR = 'dist';
// Backend executables written into dist/ by `make plugin-backend` (gpx_<name>_<os>_<arch>[.exe]):
// the frontend build must never delete them.
export const BACKEND_EXECUTABLES = /^gpx_.*$/;
