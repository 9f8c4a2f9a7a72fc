#version 450
// Depth only: the host's quad writes no colour.
void main() {}
