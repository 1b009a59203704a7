// The browser code of the widget, the console and the WeChat simulator (make lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", "**/vendor/**", ".venv/**", ".bench-work/**", "var/**"] },
  js.configs.recommended,
  {
    files: ["bot/console/static/**/*.js", "bot/widget/shared.js", "bot/channels/wechat_sim/static/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
  },
  {
    files: ["bot/widget/widget.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "script", globals: { ...globals.browser, io: "readonly" } },
  },
  {
    files: ["bot/console/static/insights/**/*.js"],
    languageOptions: { globals: { ...globals.browser, Chart: "readonly" } },
  },
  { files: ["eslint.config.mjs"], languageOptions: { sourceType: "module" } },
  {
    rules: {
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "none" }],
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      "no-var": "error",
      "prefer-const": "error",
      // full-width spaces (U+3000) separate Chinese labels on purpose
      "no-irregular-whitespace": ["error", { skipStrings: true, skipTemplates: true }],
    },
  },
];
