// Public surface of the dashboard for the control plane.
export { createDashboardHandler } from './dashboard-handler.js';
