// Project jest configuration: everything comes from .config/ (create-plugin layout).
module.exports = {
  ...require('./.config/jest.config'),
};
