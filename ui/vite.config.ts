import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// The window is WebKitGTK on Linux, WKWebView on macOS and WebView2 (Chromium) on Windows: build
// for the oldest of them. Nothing is loaded from the network, so everything is bundled.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    target: ["safari15", "chrome105"],
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // No inline script or style: the window's Content-Security-Policy forbids them.
    assetsInlineLimit: 0,
  },
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
});
