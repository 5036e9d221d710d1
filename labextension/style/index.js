import './base.css';
import './explain.css';
