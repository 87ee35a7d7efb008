// Test setup shared by every test file (see .config/jest-setup.js).
import './.config/jest-setup';
