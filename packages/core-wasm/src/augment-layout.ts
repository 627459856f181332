// The augmentation kernel's per-image parameter record, defined once: src/augment.ts writes it, assembly/augment.ts
// reads it. Like src/layout.ts, this file is both TypeScript and AssemblyScript: plain integer constants only.
//
// One record of AUG_WORDS 32-bit words per image. The sampling map of output pixel (x, y), with c = (side - 1) / 2:
//   u = M00 (x - c) + (M01 (y - c) + B0) + AX F[FX + x, row(y)]      (source column)
//   v = M10 (x - c) + (M11 (y - c) + B1) + AY F[FY + x, row(y)]      (source row)
// where row(y) = (ROW + ROW_STEP y) & (bank period - 1) and F is the elastic field bank (assembly/augment.ts).

/** f32: the inverse affine map's matrix M (source offset from the centre per output offset from the centre). */
export const AUG_M00 = 0;
export const AUG_M01 = 1;
export const AUG_M10 = 2;
export const AUG_M11 = 3;
/** f32: its offset b = c - M t (t the translation in pixels). */
export const AUG_B0 = 4;
export const AUG_B1 = 5;
/** f32: the elastic displacement's scale for the source column and row: +-alpha (0 without elastic). */
export const AUG_AX = 6;
export const AUG_AY = 7;
/** i32: float index into the bank of the window's column origin for the column and the row displacement. */
export const AUG_FX = 8;
export const AUG_FY = 9;
/** i32: the bank row of output row 0, and +1 or -1 per output row. */
export const AUG_ROW = 10;
export const AUG_ROW_STEP = 11;
/** Words per record (the rest is padding, keeping records 16-byte aligned). */
export const AUG_WORDS = 16;
