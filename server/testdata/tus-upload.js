// Uploads a file with the reference tus client, tus-js-client, and cuts
// the upload once on purpose when 40% is sent, then resumes it.
// Usage: node tus-upload.js ENDPOINT TOKEN FILE SHA256 REPORT_ID SLOT
// Prints one JSON line: {"url", "interruptedAt", "size"}.
const fs = require('fs');
const tus = require('tus-js-client');

const [endpoint, token, file, sha256, reportId, slot] = process.argv.slice(2);
const data = fs.readFileSync(file);
let interruptedAt = -1;

const upload = new tus.Upload(data, {
  endpoint,
  uploadSize: data.length,
  chunkSize: 1024 * 1024,
  headers: { Authorization: 'Bearer ' + token },
  metadata: { sha256, report_id: reportId, slot, filename: 'photo.jpg', filetype: 'image/jpeg' },
  retryDelays: [0, 200, 1000],
  onProgress(sent, total) {
    if (interruptedAt < 0 && sent > total * 0.4) {
      interruptedAt = sent;
      upload.abort().then(() => upload.start());
    }
  },
  onSuccess() {
    console.log(JSON.stringify({ url: upload.url, interruptedAt, size: data.length }));
  },
  onError(err) {
    console.error(String(err));
    process.exit(1);
  },
});
upload.start();
