// Matchers of @testing-library/jest-dom (toBeInTheDocument…), registered in jest-setup.js.
import '@testing-library/jest-dom';
