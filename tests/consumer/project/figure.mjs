// Draws a confusion matrix of some predictions as SVG and PNG files in Node (needs linkedom and @resvg/resvg-js).
import { writeFileSync } from 'node:fs';
import { confusionMatrix } from '@mnist/viz';
import { createDocument, svgToPng, toSvgString } from '@mnist/viz/node';

const labels = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9];
const predictions = [7, 2, 1, 0, 4, 1, 4, 9, 6, 9];
const svg = toSvgString(confusionMatrix(labels, predictions, { document: createDocument(), title: 'Ten test digits' }));
writeFileSync('confusion.svg', svg);
writeFileSync('confusion.png', svgToPng(svg, { width: 480 }));
