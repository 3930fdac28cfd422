// uPlot, loaded only after ./locale.ts has made the browser's language one Intl accepts.

import "./locale";
import uPlot from "uplot";

export default uPlot;
