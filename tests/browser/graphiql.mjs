// Opens GraphiQL at BASE_URL/graphql in headless Chromium, runs the example query it opens with
// (authenticated when ACCESS_TOKEN is set), and prints the result pane. Exits non-zero when the
// page does not load, the query does not run, or the result carries no data.
// Usage: node graphiql.mjs http://127.0.0.1:PORT
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node graphiql.mjs BASE_URL");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const outsideRequests = [];
try {
  const page = await browser.newPage();
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) outsideRequests.push(request.url());
  });
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(`${base}/graphql`, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-container", { timeout: 20000 });
  const editor = await page.textContent(".graphiql-query-editor");
  if (!editor.includes("posts(first: 5)")) throw new Error(`unexpected example query: ${editor}`);
  if (process.env.ACCESS_TOKEN) {
    // The Headers tab: replace its content with the bearer token.
    await page.click("text=Headers");
    const headers = page.locator(".graphiql-editor-tool .CodeMirror").last();
    await headers.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(`{"Authorization": "Bearer ${process.env.ACCESS_TOKEN}"}`);
  }
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(
    () => (document.querySelector(".result-window")?.textContent || "").includes('"data"'),
    null,
    { timeout: 20000 },
  );
  const result = await page.textContent(".result-window");
  console.log(result.replace(/\s+/g, " "));
  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join("; ")}`);
  if (outsideRequests.length) throw new Error(`requests left the server: ${outsideRequests.join(", ")}`);
  if (result.includes('"errors"')) throw new Error("the query answered errors");
} finally {
  await browser.close();
}
