/**
 * A progress bar on a TTY (redrawn in place), plain lines every 10% otherwise (CI logs).
 */
export function progressBar(total: number, out: NodeJS.WriteStream = process.stderr, label = "users") {
  const width = 30;
  const tty = out.isTTY === true;
  let lastDecile = -1;
  return {
    update(done: number, extra = ""): void {
      const frac = total === 0 ? 1 : done / total;
      const pct = Math.floor(frac * 100);
      if (tty) {
        const filled = Math.round(frac * width);
        out.write(
          `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${label} ${pct}% ${extra}\x1b[K`,
        );
        if (done >= total) out.write("\n");
        return;
      }
      const decile = Math.floor(pct / 10);
      if (decile !== lastDecile || done >= total) {
        lastDecile = decile;
        out.write(`${done}/${total} ${label} ${pct}% ${extra}\n`);
      }
    },
  };
}
