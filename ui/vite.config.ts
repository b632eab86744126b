import { defineConfig } from "vitest/config";

// esbuild compiles JSX itself (automatic runtime); no React plugin is needed for a build.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  clearScreen: false,
  build: { target: "safari15", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
