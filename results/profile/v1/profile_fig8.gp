# profile_fig8.gp: the paper's Fig. 8 — per-frame mIoU against the small-region ratio of the prediction, tail frames (worst 10 %) as red crosses, the fitted threshold dashed, the paper's 1 % dotted
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1100,480 font ',10' } else { set terminal png size 1100,480 }
set output 'profile_fig8.png'
set multiplot layout 1,4
set grid
set xlabel 'small-region ratio (%)'
set ylabel 'per-frame mIoU (%)'
set key bottom right
set arrow 2 from 1, graph 0 to 1, graph 1 nohead dt 3 lw 1 lc rgb 'grey50'
set title 'x2 (val)'
plot 'profile_fig8.dat' index 0 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 0 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'tail'
set title 'x4 (val)'
plot 'profile_fig8.dat' index 1 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 1 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'tail'
set title 'x6 (val)'
plot 'profile_fig8.dat' index 2 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 2 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'tail'
set title 'x8 (val)'
plot 'profile_fig8.dat' index 3 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 3 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'tail'
unset multiplot
