// An OpenAI-compatible server for the browser tests: real HTTP and SSE, no model.
// The answer follows the question: "slow" streams 300 pieces 50 ms apart (to stop or
// reconnect mid-reply); anything else streams a short Markdown answer with code.
import http from "node:http";

const port = Number(process.env.FAKE_LLM_PORT ?? 3108);

function pieces(question) {
  if (question.includes("slow")) {
    return { delay: 50, parts: Array.from({ length: 300 }, (_, i) => `word${i} `) };
  }
  const answer =
    "Uploads are retried in `upload_with_retry` (src/upload.rs).\n\n" +
    "```rust\nfn upload_with_retry(attempts: u32) {}\n```\n";
  return { delay: 30, parts: answer.match(/.{1,12}/gs) };
}

const server = http.createServer((request, response) => {
  if (request.method === "GET" && request.url === "/health") {
    response.end("ok");
    return;
  }
  if (request.method !== "POST" || !request.url.endsWith("/chat/completions")) {
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "not found", code: "not_found" } }));
    return;
  }
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const json = JSON.parse(body);
    const users = json.messages.filter((m) => m.role === "user");
    const question = users.length ? String(users[users.length - 1].content) : "";
    const { delay, parts } = pieces(question);
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let index = 0;
    const timer = setInterval(() => {
      if (index < parts.length) {
        const chunk = {
          id: "chatcmpl-e2e", object: "chat.completion.chunk", created: 0, model: json.model,
          choices: [{ index: 0, delta: { content: parts[index] }, finish_reason: null }],
        };
        response.write(`data: ${JSON.stringify(chunk)}\n\n`);
        index += 1;
      } else {
        clearInterval(timer);
        response.end("data: [DONE]\n\n");
      }
    }, delay);
    // Kiln dropping the request (Stop) ends the stream here too.
    response.on("close", () => clearInterval(timer));
  });
});

server.listen(port, "127.0.0.1");
