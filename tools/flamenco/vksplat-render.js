// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Flamenco 3 job type: render a frame range of a Gaussian-splat scene with `vksplat render`,
// one task per chunk of frames (one vksplat process per task: device setup and scene upload
// once, frames streamed).
//
// Install: copy this file into the `scripts/` directory next to the Flamenco Manager
// executable and restart the Manager. Workers that have vksplat (and a Vulkan driver: a GPU,
// or Mesa lavapipe on CPU-only nodes) list the task type in their flamenco-worker.yaml:
//     task_types: [vksplat, misc]
// Submit with the Manager's API (e.g. `curl -X POST $MANAGER/api/v3/jobs` with
// {"type": "vksplat-render", "settings": {...}}) or any Flamenco submitter.
//
// Retries are safe: every task passes --skip-existing, so a requeued task keeps the frames its
// failed attempt already wrote (each file is written atomically) and renders only the rest.
// Exit codes: 0 ok, 1 render failure, 2 usage, 3 unreadable input, 4 plugin/ABI, 5 no Vulkan
// device, 6 output not writable, 130/143 stopped by SIGINT/SIGTERM.

const JOB_TYPE = {
  label: "vksplat Render",
  description: "Render a frame range of a 3D Gaussian Splatting scene with vksplat",
  settings: [
    { key: "scene", type: "string", subtype: "file_path", required: true,
      description: "Splat scene (INRIA 3DGS PLY)" },
    { key: "camera", type: "string", subtype: "file_path", required: true,
      description: "Camera list, INRIA cameras.json or nerfstudio camera_path.json" },
    { key: "render_output", type: "string", subtype: "hashed_file_path", required: true,
      description: "Output pattern, e.g. /renders/shot/frame.####.exr (.exr or .png)" },
    { key: "frames", type: "string", required: true,
      description: "Frames to render, e.g. '0-99' or '1-10, 20-30'" },
    { key: "chunk_size", type: "int32", default: 10,
      description: "Frames per task (one vksplat process each)" },
    { key: "first_frame", type: "int32", default: 0,
      description: "Frame number of the camera file's first camera" },
    { key: "mode", type: "string", default: "classic",
      choices: ["classic", "antialiased", "inria"], description: "Forward-pass rules" },
    { key: "device", type: "string", default: "auto",
      description: "Vulkan device: auto, cpu, an index or part of a name" },
    { key: "vksplat", type: "string", default: "vksplat", visible: "hidden",
      description: "The vksplat executable" },
  ],
};

function compileJob(job) {
  print("vksplat render job", job.name);
  const s = job.settings;
  for (const chunk of frameChunker(s.frames, s.chunk_size)) {
    // frameChunker yields "1-10" or "11"; vksplat's --frames grammar takes both.
    const frames = String(chunk).replace(/\s+/g, "");
    const task = author.Task(`render-${frames}`, "vksplat");
    task.addCommand(author.Command("exec", {
      exe: s.vksplat || "vksplat",
      args: [
        "render", s.scene,
        "--camera", s.camera,
        "--first-frame", String(s.first_frame || 0),
        "--frames", frames,
        "--output", s.render_output,
        "--mode", s.mode || "classic",
        "--device", s.device || "auto",
        "--skip-existing",
        "--log-format", "text",
      ],
    }));
    job.addTask(task);
  }
}
