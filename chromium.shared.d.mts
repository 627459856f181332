// Types of chromium.shared.mjs (the Chromium path and headless flags every browser test and script uses).
export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: readonly string[];
export declare function missingBrowser(): string | undefined;
