// Type-checked with lib "dom" only: in a browser project the figures are the DOM's own SVGSVGElement, ready to append.
import { probabilityBars } from '@mnist/viz';

const figure: SVGSVGElement = probabilityBars([0.1, 0.9], { document });
document.body.append(figure);
