// The eggesture app's page: upload or record speech, generate, watch the body move with the
// speech (the audio element is the clock: play, pause and scrub move the body with it).
// three.js comes from the npm package served under /vendor/three (see server.py).
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const $ = (id) => document.getElementById(id);
const player = $("player");
const status = $("status");

// What the tests read: window.eggesture.{ready, result, clipDuration(k), boneQuaternion(...)}.
const state = { ready: false, result: null, views: [] };
window.eggesture = state;

function makeView(canvas) {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xf4f4f2);
  const camera = new THREE.PerspectiveCamera(35, canvas.width / canvas.height, 0.05, 50);
  camera.position.set(0.0, 1.1, 3.9);
  const controls = new OrbitControls(camera, canvas);  // orbit: drag; zoom: wheel
  controls.target.set(0, 0.9, 0);
  controls.update();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x555555, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(1.5, 3, 2);
  scene.add(sun);
  scene.add(new THREE.GridHelper(4, 8, 0x999999, 0xcccccc));
  return { canvas, renderer, scene, camera, controls, mixer: null, clip: null, model: null };
}

async function loadMotion(view, url) {
  const gltf = await new GLTFLoader().loadAsync(url);
  if (view.model) view.scene.remove(view.model);
  view.model = gltf.scene;
  view.scene.add(gltf.scene);
  view.mixer = new THREE.AnimationMixer(gltf.scene);
  view.clip = gltf.animations[0];
  view.mixer.clipAction(view.clip).play();
  view.mixer.setTime(0);
}

function render() {
  showLive();
  const t = player.currentTime || 0;
  for (const v of state.views) {
    if (v.mixer && v.clip) v.mixer.setTime(Math.min(t, v.clip.duration));
    v.renderer.render(v.scene, v.camera);
  }
  requestAnimationFrame(render);
}

state.clipDuration = (k = 0) => state.views[k] && state.views[k].clip ? state.views[k].clip.duration : null;
// A joint's rotation relative to its parent (by its glTF node name) at time t: the test
// compares it with the downloaded npz's frame.
state.boneQuaternion = (name, t, k = 0) => {
  const v = state.views[k];
  v.mixer.setTime(t);
  const node = v.model.getObjectByName(name);
  return node ? [node.quaternion.x, node.quaternion.y, node.quaternion.z, node.quaternion.w] : null;
};

// --- recording: the microphone to a 16-bit WAV, encoded here (MediaRecorder gives webm) ---
let recorder = null;
async function toWav(blob) {
  const ctx = new AudioContext();
  const buffer = await ctx.decodeAudioData(await blob.arrayBuffer());
  const samples = buffer.getChannelData(0);
  const out = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (o, s) => [...s].forEach((c, i) => out.setUint8(o + i, c.charCodeAt(0)));
  text(0, "RIFF"); out.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVEfmt ");
  out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
  out.setUint32(24, buffer.sampleRate, true); out.setUint32(28, buffer.sampleRate * 2, true);
  out.setUint16(32, 2, true); out.setUint16(34, 16, true); text(36, "data");
  out.setUint32(40, samples.length * 2, true);
  samples.forEach((x, i) => out.setInt16(44 + i * 2, Math.max(-1, Math.min(1, x)) * 32767, true));
  return new File([out], "recording.wav", { type: "audio/wav" });
}
let recorded = null;
$("record").addEventListener("click", async () => {
  if (recorder) { recorder.stop(); return; }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = async () => {
    stream.getTracks().forEach((t) => t.stop());
    recorded = await toWav(new Blob(chunks));
    recorder = null;
    $("record").textContent = "● Record";
    status.textContent = `recorded ${recorded.size} bytes: press Generate`;
  };
  recorder.start();
  $("record").textContent = "■ Stop";
});

// --- generate ---
$("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("audio").files[0] || recorded;
  if (!file) { status.textContent = "choose or record speech first"; return; }
  const body = new FormData();
  body.append("audio", file, file.name);
  if ($("text").value.trim()) body.append("text", $("text").value);
  if ($("transcript").files[0]) body.append("transcript", $("transcript").files[0]);
  if ($("compare").checked) body.append("compare", "1");
  status.className = "";
  status.textContent = "generating…";
  state.ready = false;
  $("generate").disabled = true;
  try {
    const response = await fetch("/api/generate", { method: "POST", body });
    const result = await response.json();
    if (!response.ok) throw new Error(result.error || response.statusText);
    state.result = result;
    player.src = URL.createObjectURL(file);
    await loadMotion(state.views[0], result.files["motion.glb"]);
    $("caption0").textContent = result.models[0];
    const compared = "compare.glb" in result.files;
    $("figure1").hidden = !compared;
    if (compared) {
      await loadMotion(state.views[1], result.files["compare.glb"]);
      $("caption1").textContent = result.models[1];
    }
    $("downloads").innerHTML = Object.entries(result.files)
      .map(([name, url]) => `<a href="${url}" download="${name}">${name}</a>`).join("");
    const known = `${result.words_known} of ${result.words.length} known to the model`;
    $("words").textContent = result.words.length
      ? `${result.words.length} words (${result.words_how}; ${known})` : "no words";
    status.textContent = `${result.duration.toFixed(1)} s of speech — press play`
      + result.warnings.map((w) => ` · warning: ${w}`).join("");
    state.ready = true;
  } catch (error) {
    status.className = "error";
    status.textContent = `error: ${error.message}`;
  } finally {
    $("generate").disabled = false;
  }
});

// --- live: the microphone to the server (float32 16 kHz over a WebSocket), motion back ---
// The body shown is the rest pose (/api/rest.glb) posed frame by frame as frames arrive; each
// frame is shown at its own time on the stream's clock (the lookahead behind the voice).
const live = { on: false, frames: 0, socket: null, queue: [], started: 0, fps: 15, joints: [] };
state.live = live;

function poseFrame(view, joints, values) {
  const axis = new THREE.Vector3();
  joints.forEach((name, j) => {
    const node = view.model.getObjectByName(name);
    if (!node) return;
    axis.set(values[3 * j], values[3 * j + 1], values[3 * j + 2]);
    const angle = axis.length();
    if (angle > 1e-9) node.quaternion.setFromAxisAngle(axis.divideScalar(angle), angle);
    else node.quaternion.identity();
  });
}

async function startLive() {
  const view = state.views[0];
  await loadMotion(view, "/api/rest.glb");
  view.mixer = null;  // posed by hand, not by an animation clip
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const context = new AudioContext({ sampleRate: 16000 });
  const source = context.createMediaStreamSource(stream);
  const tap = context.createScriptProcessor(2048, 1, 1);  // 128 ms of samples per message
  const socket = new WebSocket(`ws://${location.host}/ws/live`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    live.fps = message.fps;
    live.joints = message.joints;
    message.frames.forEach((values, i) => live.queue.push([message.first + i, values]));
  };
  await new Promise((resolve) => { socket.onopen = resolve; });
  tap.onaudioprocess = (event) => {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(new Float32Array(event.inputBuffer.getChannelData(0)).buffer);
    }
  };
  source.connect(tap);
  tap.connect(context.destination);
  Object.assign(live, { on: true, socket, context, stream, started: performance.now() });
  status.textContent = "live: speak; the body follows half a second behind";
  $("live").textContent = "■ Stop live";
}

function stopLive() {
  live.socket.send("end");
  live.stream.getTracks().forEach((t) => t.stop());
  live.context.close();
  live.on = false;
  $("live").textContent = "◉ Live (microphone)";
  status.textContent = `live: ${live.frames} frames shown`;
}

function showLive() {
  if (!live.queue.length) return;
  // the newest frame that is due: frames arrive in bursts, one per chunk of audio
  let due = null;
  while (live.queue.length) due = live.queue.shift();
  poseFrame(state.views[0], live.joints, due[1]);
  live.frames = due[0] + 1;
  live.last = due[1];
}

$("live").addEventListener("click", () => (live.on ? stopLive() : startLive()));

async function start() {
  state.views = [makeView($("view0")), makeView($("view1"))];
  const models = await (await fetch("/api/models")).json();
  if (models.length > 1) {
    $("compare-label").hidden = false;
    $("compare-name").textContent = models[1].name;
  }
  $("caption0").textContent = models[0].name;
  render();
}
start();
