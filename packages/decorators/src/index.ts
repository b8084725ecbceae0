import './polyfill.js';

export * from '@staunch/core';
